"""``python -m synclet serve``: run the synclet.

No plaintext beyond loopback: it binds loopback by default, and a non-loopback address needs
both ``--allow-remote`` (the synclet controls Docker: listening on a network must be a
deliberate choice) and ``--tls-cert``/``--tls-key``. In a Kubernetes pod it listens on the
pod's loopback and tilt-lsp reaches it through a port-forward (synclet/deploy/).

The bearer token is read from a file, never from the command line where ``ps`` would show
it; the file must be readable by its owner only and hold at least 32 bytes.

When ready it prints exactly one line to stdout, ``synclet listening on http(s)://HOST:PORT``
(with the real port when ``--listen`` asked for port 0); launchers wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import resource
import signal
import socket
import ssl
import stat
import sys

from aiohttp import web

from synclet.connections import (
    ConnectionLimits,
    Registry,
    handler_factory,
    quiet_exception_handler,
)
from synclet.server import DEFAULT_MAX_BODY, DEFAULT_MAX_SPEC, ServerConfig, make_app

MIN_TOKEN_BYTES = 32
_MAKE_TOKEN = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
# Descriptors kept for everything but client connections (Docker, temporary files, logs),
# and per busy update (its connection, two temporary files, an exec socket).
_FD_RESERVE = 64
_FD_PER_CONNECTION = 4


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
    """The token in ``path``; refuses a file others may read and a token under 32 bytes."""
    try:
        with open(path, encoding="utf-8") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            token = fh.read().strip()
    except UnicodeDecodeError:
        raise UsageError(f"the token file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read the token file {path}: {exc.strerror}") from None
    if stat.S_ISREG(mode) and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"the token file {path} is accessible to other users (mode {stat.S_IMODE(mode):o}): "
            f"chmod 600 {path}"
        )
    if not token:
        raise UsageError(f"the token file {path} is empty")
    if len(token.encode("utf-8")) < MIN_TOKEN_BYTES:
        raise UsageError(
            f"the token in {path} is {len(token.encode('utf-8'))} bytes; it must be at least "
            f"{MIN_TOKEN_BYTES} (make one with: {_MAKE_TOKEN})"
        )
    return token


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    """A server TLS context from PEM files, or None when neither is given."""
    if not cert and not key:
        return None
    if not cert or not key:
        raise UsageError("--tls-cert and --tls-key go together: give both")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"cannot load the TLS certificate {cert} / key {key}: {exc}") from None
    return context


def connection_cap(wanted: int) -> int:
    """``wanted``, lowered so that connections can never exhaust the descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    fits = (soft - _FD_RESERVE) // _FD_PER_CONNECTION
    if fits < 4:
        raise UsageError(
            f"the open-file limit ({soft}) is too low for the synclet: raise it to at least "
            f"{_FD_RESERVE + 4 * _FD_PER_CONNECTION} (ulimit -n)"
        )
    return min(wanted, fits)


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


async def serve(
    config: ServerConfig, host: str, port: int, tls: ssl.SSLContext | None = None
) -> None:
    sock = _bind(host, port)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_exception_handler)
    runner = web.AppRunner(make_app(config), access_log=None, handle_signals=False)
    await runner.setup()
    assert runner.server is not None
    registry = Registry(config.limits)
    server = await loop.create_server(
        handler_factory(runner.server, registry, loop),
        sock=sock,
        # asyncio accepts up to `backlog` connections per wake-up, before any can be evicted:
        # bounded by the connection cap, a burst cannot run the process out of descriptors.
        backlog=min(128, config.limits.max_connections),
        ssl=tls,
        ssl_handshake_timeout=config.limits.header_timeout if tls else None,
    )
    real_host, real_port = sock.getsockname()[:2]
    shown = f"[{real_host}]" if ":" in real_host else real_host
    scheme = "https" if tls else "http"
    print(f"synclet listening on {scheme}://{shown}:{real_port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        await runner.shutdown()
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
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --listen address (needs --tls-cert and --tls-key)",
    )
    p.add_argument("--tls-cert", help="PEM certificate (chain) to serve HTTPS with")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument("--max-connections", type=int, default=100, help="open connections at most")
    p.add_argument(
        "--header-timeout", type=float, default=10.0, help="seconds to send a request head"
    )
    p.add_argument(
        "--idle-timeout", type=float, default=30.0, help="seconds an idle connection stays open"
    )
    p.add_argument(
        "--body-timeout", type=float, default=30.0, help="seconds of silence within a body"
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
        tls = tls_context(args.tls_cert, args.tls_key)
        if not is_loopback(host):
            if not args.allow_remote:
                raise UsageError(
                    f"refusing to listen on {host}, which is not loopback: the synclet controls "
                    "Docker; pass --allow-remote (with --tls-cert and --tls-key) if that is "
                    "what you want"
                )
            if tls is None:
                raise UsageError(
                    f"refusing to listen on {host} without TLS: the bearer token and your files "
                    "would cross the network in plaintext; pass --tls-cert and --tls-key, or "
                    "listen on 127.0.0.1 and reach the synclet through a tunnel "
                    "(kubectl port-forward, ssh -L)"
                )
        limits = ConnectionLimits(
            max_connections=connection_cap(args.max_connections),
            header_timeout=args.header_timeout,
            idle_timeout=args.idle_timeout,
            body_timeout=args.body_timeout,
        )
        config = ServerConfig(
            token=read_token(args.token_file),
            max_body=args.max_body,
            max_spec=args.max_spec,
            restart_timeout=args.restart_timeout,
            limits=limits,
        )
        asyncio.run(serve(config, host, port, tls))
    except UsageError as exc:
        print(f"synclet: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
