"""``python -m synclet serve``: run the synclet.

It binds loopback unless ``--allow-remote`` is given: the synclet holds the Docker socket, so
listening on a network interface must be a deliberate choice (the Dockerfile makes it, since
in a container or on a Kubernetes node the caller is elsewhere). The bearer token is read
from a file, never from the command line where ``ps`` would show it.

When ready it prints exactly one line to stdout, ``synclet listening on http://HOST:PORT``
(with the real port when ``--listen`` asked for port 0); launchers wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
import stat
import sys

from aiohttp import web

from synclet.server import DEFAULT_MAX_BODY, DEFAULT_MAX_SPEC, ServerConfig, make_app


class UsageError(Exception):
    """A bad command line or token file; printed without a traceback."""


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT`` into (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"--listen must be HOST:PORT, got {value!r}")
    host = host.strip("[]")
    if not host:
        raise UsageError(f"--listen must name a host, got {value!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            token = fh.read().strip()
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise UsageError(f"cannot read the token file {path}: {exc.strerror}") from None
    if not token:
        raise UsageError(f"the token file {path} is empty")
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and stat.S_ISREG(mode):
        print(f"synclet: warning: {path} is readable by other users; chmod 600 it", file=sys.stderr)
    return token


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if host == "localhost":
        host = "127.0.0.1"
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(config: ServerConfig, host: str, port: int) -> None:
    sock = _bind(host, port)
    runner = web.AppRunner(make_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, shutdown_timeout=5.0)
    await site.start()
    real_host, real_port = sock.getsockname()[:2]
    shown = f"[{real_host}]" if ":" in real_host else real_host
    print(f"synclet listening on http://{shown}:{real_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _grace_default() -> int:
    """``TILT_LSP_RESTART_GRACE`` (seconds), else 0: restart with no grace, as Tilt does."""
    try:
        return max(0, int(os.environ.get("TILT_LSP_RESTART_GRACE", "0") or 0))
    except ValueError:
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synclet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the synclet HTTP server")
    p.add_argument("--listen", default="127.0.0.1:8790", help="HOST:PORT (port 0: any free port)")
    p.add_argument("--token-file", required=True, help="file holding the bearer token")
    p.add_argument(
        "--max-body", type=int, default=DEFAULT_MAX_BODY, help="largest request body, bytes"
    )
    p.add_argument(
        "--max-spec", type=int, default=DEFAULT_MAX_SPEC, help="largest spec line, bytes"
    )
    p.add_argument(
        "--restart-timeout",
        type=int,
        default=_grace_default(),
        help="seconds a container restart waits before killing (default 0, as Tilt; "
        "TILT_LSP_RESTART_GRACE sets it)",
    )
    p.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --listen address"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every update to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="synclet: %(message)s",
        stream=sys.stderr,
    )
    try:
        host, port = parse_listen(args.listen)
        if not is_loopback(host) and not args.allow_remote:
            raise UsageError(
                f"refusing to listen on {host}, which is not loopback: the synclet controls "
                "Docker; pass --allow-remote if that is what you want"
            )
        config = ServerConfig(
            token=read_token(args.token_file),
            max_body=args.max_body,
            max_spec=args.max_spec,
            restart_timeout=args.restart_timeout,
        )
        asyncio.run(serve(config, host, port))
    except UsageError as exc:
        print(f"synclet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
