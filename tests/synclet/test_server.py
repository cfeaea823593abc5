"""The synclet's HTTP surface, against a real ``python -m synclet serve`` and real containers.

Every refusal is checked where a user would feel it: the answer names the problem, and the
container's filesystem (``docker diff``) is exactly what it was before the request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from synclet.protocol import HEALTHZ_PATH, UpdateSpec
from tests.synclet.helpers import (
    MANAGED,
    MAX_BODY,
    Synclet,
    exec_out,
    make_tar,
    member,
    post_update,
)

# A name no container has: checks that come before Docker is asked about the container.
NO_SUCH = "tilt-lsp-13-no-such-container"


def _spec(deletes: tuple[str, ...] = ("/app/keep",), restart: str = "none") -> UpdateSpec:
    return UpdateSpec(
        deletes=deletes,
        changed=("/app/new.txt",),
        run_steps=(),
        restart=restart,  # type: ignore[arg-type]
        dest="/app",
    )


async def test_healthz_needs_no_token(synclet: Synclet) -> None:
    async with aiohttp.ClientSession() as s, s.get(synclet.url + HEALTHZ_PATH) as r:
        assert r.status == 200
        body = await r.json()
    assert body["ok"] is True and body["version"]


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
async def test_update_without_the_right_token_is_401(synclet: Synclet, token: str | None) -> None:
    reply = await post_update(synclet, "any", _spec(), b"", token=token)
    assert reply.status == 401
    assert reply.error == "missing or wrong bearer token"


async def test_unknown_route_is_json_404(synclet: Synclet) -> None:
    async with aiohttp.ClientSession() as s, s.get(synclet.url + "/v1/nope") as r:
        assert r.status == 404
        assert "error" in await r.json()


async def test_wrong_content_type_and_bad_spec_are_400(synclet: Synclet) -> None:
    reply = await post_update(synclet, NO_SUCH, _spec(), content_type="application/json")
    assert reply.status == 400
    assert "Content-Type must be application/vnd.tilt-lsp.update+tar" in (reply.error or "")
    reply = await post_update(synclet, NO_SUCH, body=b'{"restart": "sometimes"}\n')
    assert reply.status == 400
    assert "restart must be one of none, container, process" in (reply.error or "")
    reply = await post_update(synclet, NO_SUCH, body=b'{"restart": "none"}')
    assert reply.status == 400
    assert "one line of JSON ending in a newline" in (reply.error or "")


async def test_oversized_body_is_413(synclet: Synclet) -> None:
    big = make_tar((member("big.bin"), b"\0" * (MAX_BODY + 1024)))
    reply = await post_update(synclet, NO_SUCH, _spec(()), big)
    assert reply.status == 413
    assert f"exceeds the limit of {MAX_BODY} bytes" in (reply.error or "")


async def test_oversized_body_without_content_length_is_413(synclet: Synclet) -> None:
    async def chunks() -> Any:
        yield _spec(()).to_json().encode() + b"\n"
        for _ in range(MAX_BODY // 65536 + 2):
            yield b"\0" * 65536

    async with (
        aiohttp.ClientSession() as s,
        s.post(
            synclet.url + f"/v1/containers/{NO_SUCH}/update",
            data=chunks(),
            headers={
                "Authorization": f"Bearer {synclet.token}",
                "Content-Type": "application/vnd.tilt-lsp.update+tar",
            },
        ) as r,
    ):
        assert r.status == 413


async def test_oversized_spec_line_is_413(synclet: Synclet) -> None:
    reply = await post_update(synclet, NO_SUCH, body=b" " * (1024 * 1024 + 10) + b"\n")
    assert reply.status == 413
    assert "update spec line exceeds" in (reply.error or "")


# ---------------------------------------------------------------------------------------------
# Unsafe requests against a real container: refused whole, nothing written or deleted.

UNSAFE = {
    "absolute name": ([(member("/etc/evil"), b"x")], "'/etc/evil' has an absolute name"),
    "dot-dot": ([(member("sub/../../etc/evil"), b"x")], "'sub/../../etc/evil' contains '..'"),
    "symlink escaping": (
        [(member("lnk", tarfile.SYMTYPE, linkname="/etc"), None), (member("lnk/evil"), b"x")],
        "'lnk' is a symlink to '/etc', which is outside /app",
    ),
    "relative symlink escaping": (
        [(member("lnk", tarfile.SYMTYPE, linkname="../etc"), None)],
        "'lnk' is a symlink to '../etc'",
    ),
    "hardlink escaping": (
        [(member("hard", tarfile.LNKTYPE, linkname="../etc/passwd"), None)],
        "'hard' is a hard link to '../etc/passwd', which is outside /app",
    ),
    "device": ([(member("null", tarfile.CHRTYPE), None)], "'null' is a character device"),
    "block device": ([(member("sda", tarfile.BLKTYPE), None)], "'sda' is a block device"),
    "fifo": ([(member("pipe", tarfile.FIFOTYPE), None)], "'pipe' is a fifo"),
}


@pytest.fixture(scope="module")
def target(docker_client: Any, base_image: str) -> Iterator[Any]:
    """One container for all refusal tests: /app/keep exists and must survive every request."""
    from tests.conftest import docker_test_labels

    container = docker_client.containers.run(
        base_image,
        ["sleep", "infinity"],
        detach=True,
        init=True,
        labels={**docker_test_labels(), **MANAGED},
    )
    try:
        exec_out(container, "sh", "-c", "mkdir -p /app && echo keep > /app/keep")
        yield container
    finally:
        container.remove(force=True)


def _snapshot(container: Any) -> tuple[list[Any], str]:
    return sorted(container.diff(), key=lambda d: d["Path"]), exec_out(
        container, "sh", "-c", "ls -la /app /etc | md5sum; cat /app/keep"
    )


@pytest.mark.docker
@pytest.mark.parametrize("case", list(UNSAFE))
async def test_unsafe_archive_is_refused_and_nothing_is_written(
    synclet: Synclet, target: Any, case: str
) -> None:
    members, needle = UNSAFE[case]
    # A good file first: refusal must be whole, so even it is not written.
    archive = make_tar((member("new.txt"), b"new"), *members)
    before = _snapshot(target)
    reply = await post_update(synclet, target.id, _spec(), archive)
    assert reply.status == 400, reply
    assert needle in (reply.error or ""), reply.error
    assert "nothing was applied" in (reply.error or "")
    assert _snapshot(target) == before
    assert before[1].endswith("keep\n")


@pytest.mark.docker
@pytest.mark.parametrize(
    ("deletes", "needle"),
    [
        (("/etc/hostname",), "delete '/etc/hostname' is outside the destination /app"),
        (("/app/../etc/hostname",), "contains '..'"),
        (("/app",), "would remove the whole destination /app"),
    ],
)
async def test_deletes_outside_dest_are_refused(
    synclet: Synclet, target: Any, deletes: tuple[str, ...], needle: str
) -> None:
    before = _snapshot(target)
    reply = await post_update(
        synclet, target.id, _spec(deletes), make_tar((member("new.txt"), b"n"))
    )
    assert reply.status == 400
    assert needle in (reply.error or "")
    assert _snapshot(target) == before


@pytest.mark.docker
async def test_process_restart_needs_the_container_to_declare_it(
    synclet: Synclet, target: Any
) -> None:
    before = _snapshot(target)
    reply = await post_update(
        synclet, target.id, _spec(restart="process"), make_tar((member("new.txt"), b"n"))
    )
    assert reply.status == 400
    assert "label dev.tilt-lsp.restart-signal" in (reply.error or "")
    assert _snapshot(target) == before


def _serve(tmp_path: Any, listen: str, token: str) -> subprocess.CompletedProcess[str]:
    """``python -m synclet serve`` with a 0600 token file holding ``token``, run to its exit."""
    token_file = tmp_path / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    command = [sys.executable, "-m", "synclet", "serve", "--listen", listen,
               "--token-file", str(token_file)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=30)


def test_cli_refuses_a_non_loopback_address_without_allow_remote(tmp_path: Any) -> None:
    proc = _serve(tmp_path, "0.0.0.0:0", "t")
    assert proc.returncode == 2
    assert "not loopback" in proc.stderr and "--allow-remote" in proc.stderr
    assert proc.stdout == ""


def test_cli_refuses_an_empty_token_file(tmp_path: Any) -> None:
    proc = _serve(tmp_path, "127.0.0.1:0", "\n")
    assert proc.returncode == 2
    assert "is empty" in proc.stderr


def test_bearer_check() -> None:
    from synclet.access import authorised

    assert authorised("Bearer s3cret", "s3cret")
    assert authorised("bearer s3cret", "s3cret")
    assert not authorised("Bearer s3cre", "s3cret")
    assert not authorised("Basic s3cret", "s3cret")
    assert not authorised("s3cret", "s3cret")
    assert not authorised(None, "s3cret")
    assert not authorised("Bearer ", "s3cret")
    assert not authorised("Bearer s3cr\udcffet", "s3cret")  # bytes that are not UTF-8


def test_container_id_syntax() -> None:
    from synclet.access import bad_container_id

    for good in ("3f2a", "a" * 64, "web", "my_app.web-1"):
        assert bad_container_id(good) is None
    for bad in ("", "../x", "a/b", ".hidden", "-x", "a%2Fb", "a b", "a\nb", "x" * 256):
        assert bad_container_id(bad) is not None
