"""``tilt-lsp serve``: the language server, over stdio (default) or TCP."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    p.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen for one LSP client on HOST:PORT instead"
    )
    p.add_argument(
        "--log-file", metavar="FILE", help="write the server's own log here (default: stderr)"
    )
    p.add_argument(
        "--tiltfile-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="stop a Tiltfile evaluation after S seconds (default 30; the editor's "
        "tiltfileTimeout option overrides it)",
    )
    p.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    logging.basicConfig(
        level=args.log_level,
        handlers=[handler],
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    from tilt_lsp.lsp.server import server
    from tilt_lsp.lsp.stdio import serve_stdio, serve_tcp

    if args.tiltfile_timeout <= 0:
        print("tilt-lsp serve: --tiltfile-timeout wants a number of seconds > 0", file=sys.stderr)
        return 2
    server.tiltfile_timeout = args.tiltfile_timeout

    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        if not port.isdigit():
            print(f"tilt-lsp serve: --tcp wants HOST:PORT, got {args.tcp!r}", file=sys.stderr)
            return 2
        return asyncio.run(serve_tcp(server, host or "127.0.0.1", int(port)))
    # Our own stdio loop (lsp/stdio.py): it resynchronises on broken framing, never blocks
    # on a slow client, and stops the engine on exit, stdin EOF and SIGTERM/SIGINT/SIGHUP.
    return asyncio.run(serve_stdio(server, sys.stdin.buffer, sys.stdout.buffer))
