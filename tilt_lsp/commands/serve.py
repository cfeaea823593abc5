"""``tilt-lsp serve``: the language server, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from tilt_lsp import __version__

log = logging.getLogger("tilt_lsp.serve")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    p.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen for one LSP client on HOST:PORT instead"
    )
    p.add_argument(
        "--log-file",
        metavar="FILE",
        help="append the server's own log here (default: stderr); best outside the workspace",
    )
    p.add_argument(
        "--log-level",
        default=None,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="INFO: tilt-lsp's own messages and libraries' warnings (the default with "
        "--log-file); WARNING: problems only (the default on stderr, which editors keep); "
        "DEBUG adds the LSP traffic",
    )
    p.add_argument(
        "--tiltfile-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="stop a Tiltfile evaluation after S seconds (default 30; the editor's "
        "tiltfileTimeout option overrides it)",
    )
    p.set_defaults(func=run)


# Libraries that log every protocol message or file event below WARNING.
_CHATTY = ("pygls", "asyncio", "urllib3", "docker", "kubernetes", "aiohttp")


def configure_logging(log_file: str | None, level: str) -> None:
    """Send every logger to ``log_file`` (or stderr). Libraries stay at WARNING unless DEBUG
    is asked for; watchdog never goes below INFO: its DEBUG line per inotify event, written
    to a log file inside the watched workspace, is itself an event (a loop of megabytes per
    second)."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=level,
        handlers=[handler],
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    numeric = logging.getLevelName(level)
    quiet = max(numeric, logging.WARNING)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(numeric if level == "DEBUG" else quiet)
    logging.getLogger("watchdog").setLevel(logging.INFO if level == "DEBUG" else quiet)


def run(args: argparse.Namespace) -> int:
    level = args.log_level or ("INFO" if args.log_file else "WARNING")
    try:
        configure_logging(args.log_file, level)
    except OSError as err:
        print(f"tilt-lsp serve: cannot write --log-file {args.log_file}: {err}", file=sys.stderr)
        return 2
    from tilt_lsp.lsp.server import server
    from tilt_lsp.lsp.stdio import serve_stdio, serve_tcp

    if args.tiltfile_timeout <= 0:
        print("tilt-lsp serve: --tiltfile-timeout wants a number of seconds > 0", file=sys.stderr)
        return 2
    server.tiltfile_timeout = args.tiltfile_timeout

    log.info(
        "tilt-lsp %s: language server on %s (pid %d, cwd %s, log level %s)",
        __version__,
        f"tcp {args.tcp}" if args.tcp else "stdio",
        os.getpid(),
        os.getcwd(),
        level,
    )

    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"tilt-lsp serve: --tcp wants HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        code = asyncio.run(serve_tcp(server, host or "127.0.0.1", int(port)))
    else:
        # Our own stdio loop (lsp/stdio.py): it resynchronises on broken framing, never
        # blocks on a slow client, and stops the engine on exit, stdin EOF and signals.
        code = asyncio.run(serve_stdio(server, sys.stdin.buffer, sys.stdout.buffer))
    log.info("tilt-lsp: language server stopped")
    return code
