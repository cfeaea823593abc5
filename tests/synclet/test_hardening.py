"""The synclet as a network service under abuse: TLS off loopback, tokens, stalled and
malformed clients, and memory under large updates. Real ``python -m synclet serve``
processes; every client error must be a JSON 4xx and the log must hold no traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import ssl
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from synclet.protocol import (
    HEALTHZ_PATH,
    UPDATE_CONTENT_TYPE,
    Done,
    UpdateSpec,
    event_from_json,
    update_path,
)
from tests.synclet.helpers import (
    Running,
    make_tar,
    member,
    run_container,
    running_synclet,
)

NO_SUCH = "tilt-lsp-13-no-such-container"


def _serve(tmp_path: Path, *args: str, token: str = "t" * 43, mode: int = 0o600) -> Any:
    token_file = tmp_path / "token"
    token_file.write_text(token)
    token_file.chmod(mode)
    command = [sys.executable, "-m", "synclet", "serve", "--token-file", str(token_file), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


# ---------------------------------------------------------------------------------------------
# Start-up refusals


def test_allow_remote_without_tls_refuses_to_start(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--listen", "0.0.0.0:0", "--allow-remote")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "without TLS" in proc.stderr and "--tls-cert and --tls-key" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_half_a_tls_configuration_refuses_to_start(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--tls-cert", str(tmp_path / "cert.pem"))
    assert proc.returncode == 2 and "give both" in proc.stderr


def test_a_token_under_32_bytes_is_refused(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--listen", "127.0.0.1:0", token="x" * 31)
    assert proc.returncode == 2
    assert (
        "31 bytes; it must be at least 32" in proc.stderr and "secrets.token_urlsafe" in proc.stderr
    )


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_token_file_others_can_access_is_refused(tmp_path: Path, mode: int) -> None:
    proc = _serve(tmp_path, "--listen", "127.0.0.1:0", mode=mode)
    assert proc.returncode == 2
    assert f"(mode {mode:o})" in proc.stderr and "chmod 600" in proc.stderr


# ---------------------------------------------------------------------------------------------
# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=synclet-test", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls_synclet(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path]
) -> Iterator[Running]:
    cert, key = certificate
    with running_synclet(
        tmp_path_factory.mktemp("tls-synclet"),
        "--allow-remote", "--tls-cert", str(cert), "--tls-key", str(key),
        listen="0.0.0.0:0",
    ) as running:  # fmt: skip
        yield running


def _local(url: str) -> str:
    return url.replace("0.0.0.0", "127.0.0.1")


async def test_a_non_loopback_listener_speaks_only_tls(
    tls_synclet: Running, certificate: tuple[Path, Path]
) -> None:
    assert tls_synclet.url.startswith("https://0.0.0.0:")
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    url = _local(tls_synclet.url)
    async with aiohttp.ClientSession() as s:
        async with s.get(url + HEALTHZ_PATH, ssl=trust) as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        with pytest.raises(aiohttp.ClientError):  # plaintext gets no HTTP answer
            async with s.get(url.replace("https://", "http://") + HEALTHZ_PATH) as r:
                await r.read()
        with pytest.raises(aiohttp.ClientConnectorCertificateError):  # not trusted: refused
            async with s.get(url + HEALTHZ_PATH) as r:
                await r.read()
    assert "Traceback" not in tls_synclet.log_text()


@pytest.mark.docker
async def test_an_update_over_tls_is_applied(
    tls_synclet: Running,
    certificate: tuple[Path, Path],
    docker_client: Any,
    base_image: str,
    docker_resources: Any,
) -> None:
    container = run_container(docker_client, docker_resources, base_image)
    spec = UpdateSpec(deletes=(), changed=(), run_steps=(), restart="none", dest="/app")
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    connector = aiohttp.TCPConnector(ssl=trust)
    from synclet.client import update_events

    async with aiohttp.ClientSession(connector=connector) as session:
        events = [
            e
            async for e in update_events(
                session,
                _local(tls_synclet.url),
                tls_synclet.token,
                container.id,
                spec,
                make_tar((member("tls.txt"), b"over tls")),
            )
        ]
    assert isinstance(events[-1], Done), events
    code, out = container.exec_run(["cat", "/app/tls.txt"])
    assert (code, out) == (0, b"over tls")


# ---------------------------------------------------------------------------------------------
# Malformed input: a JSON 4xx, one log line, no traceback


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_synclet(tmp_path_factory.mktemp("plain"), "--body-timeout", "1") as running:
        yield running


def _raw(url: str, request: bytes, timeout: float = 20.0) -> tuple[int, dict[str, Any]]:
    """Send raw bytes, read the whole answer (the synclet closes after an error)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = next(
                        (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                         if line.lower().startswith(b"content-length:")),
                        None,
                    )  # fmt: skip
                    if length is not None and len(body) >= length:
                        break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body)


def _post(path: str, headers: dict[str, bytes], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: synclet"]
    lines += [k.encode() + b": " + v for k, v in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _update(token: str, body: bytes, **extra: bytes) -> bytes:
    headers = {
        "Authorization": f"Bearer {token}".encode(),
        "Content-Type": UPDATE_CONTENT_TYPE.encode(),
        "Content-Length": str(len(body)).encode(),
        **extra,
    }
    return _post(f"/v1/containers/{NO_SUCH}/update", headers, body)


def _cases(token: str) -> dict[str, tuple[bytes, int, str]]:
    spec = b'{"restart":"none","dest":"/app"}\n'
    return {
        "non-UTF-8 Authorization": (
            _update(token, spec, Authorization=b"Bearer \xff\xfe" + token.encode()),
            401,
            "bearer token",
        ),
        "deeply nested JSON spec": (
            _update(token, b'{"restart":"none","run_steps":' + b"[" * 100_000 + b"\n"),
            400,
            "nested too deeply",
        ),
        "lone surrogate in a command": (
            _update(token, b'{"restart":"none","run_steps":[{"command":["\\ud800"]}]}\n'),
            400,
            "UTF-8",
        ),
        "NUL in a delete": (
            _update(token, b'{"restart":"none","deletes":["/app/a\\u0000b"],"dest":"/app"}\n'),
            400,
            "NUL",
        ),
        "huge number": (_update(token, b'{"restart":' + b"9" * 50_000 + b"}\n"), 400, "JSON"),
        "bad Content-Length": (
            _post("/v1/healthz", {"Content-Length": b"abc"}, b""),
            400,
            "malformed HTTP request",
        ),
        "garbage request line": (b"\x16\x03\x01 hello\r\n\r\n", 400, "malformed HTTP request"),
        "header line too long": (
            _post("/v1/healthz", {"X-Long": b"a" * 100_000}, b""),
            400,
            "malformed HTTP request",
        ),
        "stalled body": (
            _update(token, spec + b"\0" * 100, **{"Content-Length": b"100000"}),
            408,
            "sent nothing for 1 s",
        ),
        "container id with a slash": (
            _post(
                "/v1/containers/..%2Fetc/update", {"Authorization": f"Bearer {token}".encode()}, b""
            ),
            400,
            "neither a Docker container id nor a container name",
        ),
    }


def test_every_client_error_is_a_json_4xx_without_a_traceback(plain: Running) -> None:
    for name, (request, status, needle) in _cases(plain.token).items():
        got, body = _raw(plain.url, request)
        assert (got, needle in body.get("error", "")) == (status, True), (name, got, body)
    time.sleep(0.2)
    log = plain.log_text()
    assert "Traceback" not in log, log
    assert plain.proc.poll() is None


# ---------------------------------------------------------------------------------------------
# Stalled clients


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))


def _stall(url: str, count: int) -> list[socket.socket]:
    """``count`` connections that send half a request head and then nothing."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    socks = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    return socks


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_stalled_connections_under_a_low_fd_limit_do_not_starve_healthz(
    tmp_path: Path,
) -> None:
    # Timeouts far longer than the test: only the connection cap can keep /healthz alive.
    with running_synclet(
        tmp_path, "--header-timeout", "300", "--idle-timeout", "300", preexec_fn=_low_fd_limit
    ) as running:
        stalled = await asyncio.to_thread(_stall, running.url, 200)
        try:
            assert _open_fds(running.proc.pid) < 128
            async with aiohttp.ClientSession() as s:
                for _ in range(3):
                    async with s.get(
                        running.url + HEALTHZ_PATH, timeout=aiohttp.ClientTimeout(total=30)
                    ) as r:
                        assert r.status == 200
            assert running.proc.poll() is None
        finally:
            for sock in stalled:
                sock.close()
        log = running.log_text()
        assert "Traceback" not in log, log[-3000:]
        assert "evicted: the synclet is at its connection limit" in log
        assert "out of system resource" not in log, "accept() hit the descriptor limit"


def test_when_every_connection_is_busy_a_new_one_is_closed_and_nothing_is_logged_as_a_crash(
    tmp_path: Path,
) -> None:
    with running_synclet(tmp_path, "--max-connections", "2", "--body-timeout", "60") as running:
        host, port = running.url.removeprefix("http://").rsplit(":", 1)
        body = b'{"restart":"none"}\n'
        busy = []
        for _ in range(2):  # authorised updates whose bodies stall: busy in a request
            sock = socket.create_connection((host, int(port)), timeout=20)
            sock.sendall(_update(running.token, body, **{"Content-Length": b"100000"}))
            busy.append(sock)
        time.sleep(0.5)
        with socket.create_connection((host, int(port)), timeout=20) as third:
            third.sendall(b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            with contextlib.suppress(ConnectionResetError):
                assert third.recv(1024) == b""
        for sock in busy:  # a client that hangs up mid-body
            sock.close()
        status, answer = _raw(running.url, b"GET /v1/healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 200 and answer["ok"] is True
        time.sleep(0.2)
        log = running.log_text()
        assert "every connection is busy" in log
        assert "closed the connection before the body ended" in log
        assert "Traceback" not in log, log


def _closed_by_server(url: str, payload: bytes) -> float:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        if payload:
            sock.sendall(payload)
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(1024) == b""
    return time.monotonic() - start


@pytest.mark.parametrize(
    "payload", [b"", b"POST /v1/containers/x/update HTTP/1.1\r\nHost: x\r\n"], ids=["idle", "head"]
)
def test_a_stalled_connection_is_closed_after_its_timeout(tmp_path: Path, payload: bytes) -> None:
    with running_synclet(tmp_path, "--header-timeout", "1", "--idle-timeout", "1") as running:
        assert _closed_by_server(running.url, payload) < 25  # closed, not left open for ever
        assert "Traceback" not in running.log_text()


# ---------------------------------------------------------------------------------------------
# Memory


class _Zeros:
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return b"\0" * n


def _big_body(path: Path, size: int) -> None:
    spec = UpdateSpec(deletes=(), changed=(), run_steps=(), restart="none", dest="/big")
    with open(path, "wb") as fh:
        fh.write(spec.to_json().encode() + b"\n")
        with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
            info = tarfile.TarInfo("big.bin")
            info.size = size
            tar.addfile(info, _Zeros(size))  # type: ignore[arg-type]


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(ln for ln in status.splitlines() if ln.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.docker
async def test_two_256_mib_updates_at_once_stay_far_below_the_pods_memory_limit(
    tmp_path: Path, docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    """synclet/deploy/daemonset.yaml limits the pod to 1 GiB; bodies are spooled to disk."""
    size = 256 << 20
    body = tmp_path / "body"
    await asyncio.to_thread(_big_body, body, size)
    containers = [run_container(docker_client, docker_resources, base_image) for _ in range(2)]
    with running_synclet(tmp_path, "--max-body", str(size + (4 << 20))) as running:
        baseline = _peak_rss_mib(running.proc.pid)

        async def send(container: Any) -> list[Any]:
            headers = {
                "Authorization": f"Bearer {running.token}",
                "Content-Type": UPDATE_CONTENT_TYPE,
            }
            url = running.url + update_path(container.id)
            with open(body, "rb") as fh:
                async with aiohttp.ClientSession() as s, s.post(url, data=fh, headers=headers) as r:
                    assert r.status == 200, await r.text()
                    return [event_from_json(line) async for line in r.content]

        replies = await asyncio.gather(*(send(c) for c in containers))
        peak = _peak_rss_mib(running.proc.pid)
    for events in replies:
        assert isinstance(events[-1], Done), events
    for container in containers:
        code, out = container.exec_run(["stat", "-c", "%s", "/big/big.bin"])
        assert (code, out.strip()) == (0, str(size).encode())
        container.exec_run(["rm", "-f", "/big/big.bin"])
    print(f"synclet peak RSS: {peak:.0f} MiB (at start {baseline:.0f} MiB) for 2 x 256 MiB")
    assert peak < 400, f"peak RSS {peak:.0f} MiB for two 256 MiB updates"
