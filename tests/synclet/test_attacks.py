"""A hostile client against a real synclet and real containers, checked from the host.

Archives are crafted here with tarfile and zlib (never with synclet code). After each request
the container's filesystem is read from the host, through Docker (``docker diff`` and the
archive API), not through anything the synclet or the container says.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yarl

from synclet.protocol import UPDATE_CONTENT_TYPE, Done, RunStep, UpdateSpec, encode_request
from synclet.safety import MAX_META_HEADER
from tests.synclet.helpers import (
    Running,
    changed_paths,
    exec_out,
    file_in,
    make_tar,
    member,
    post_update,
    run_container,
    running_synclet,
)
from tests.synclet.test_rewrite import gzip_tar_hybrid

pytestmark = pytest.mark.docker

DEST = "/app/dest"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_synclet(tmp_path_factory.mktemp("attacks"), "--max-body", str(64 << 20)) as s:
        yield s
    assert "Traceback" not in s.log_text(), s.log_text()


@pytest.fixture(params=["root", "nobody"])
def victim(
    request: pytest.FixtureRequest, docker_client: Any, base_image: str, docker_resources: Any
) -> Any:
    """A managed container with an empty /app/dest; as root (Docker's archive API extracts)
    or as nobody (``tar -x`` through exec extracts)."""
    user = "" if request.param == "root" else "65534:65534"
    container = run_container(docker_client, docker_resources, base_image, user=user)
    code, out = container.exec_run(
        ["sh", "-c", f"mkdir -p {DEST} && chown 65534 {DEST}"], user="root"
    )
    assert code == 0, out
    return container


def spec(restart: str = "none", steps: tuple[RunStep, ...] = ()) -> UpdateSpec:
    return UpdateSpec(
        deletes=(),
        changed=(),
        run_steps=steps,
        restart=restart,
        dest=DEST,  # type: ignore[arg-type]
    )


def _inside(paths: set[str]) -> bool:
    return all(p in ("/app", DEST) or p.startswith(DEST + "/") for p in paths)


async def test_a_pax_path_lands_under_dest_not_at_the_root(hostile: Running, victim: Any) -> None:
    before = changed_paths(victim)
    archive = make_tar((member("innocent.txt", pax={"path": "tmp/x"}), b"pax"))
    reply = await post_update(hostile.synclet, victim.id, spec(), archive)
    assert isinstance(reply.events[-1], Done), reply
    new = changed_paths(victim) - before
    assert new == {f"{DEST}/tmp", f"{DEST}/tmp/x"}, new
    assert file_in(victim, "/tmp/x") is None
    landed = file_in(victim, f"{DEST}/tmp/x")
    assert landed is not None and landed.size == 3


async def test_a_pax_linkpath_hard_link_links_under_dest(hostile: Running, victim: Any) -> None:
    before = changed_paths(victim)
    archive = make_tar(
        (member("tmp/orig"), b"orig"),
        (member("h", tarfile.LNKTYPE, linkname="x", pax={"linkpath": "tmp/orig"}), None),
    )
    reply = await post_update(hostile.synclet, victim.id, spec(), archive)
    assert isinstance(reply.events[-1], Done), reply
    assert _inside(changed_paths(victim) - before)
    assert file_in(victim, "/tmp/orig") is None
    inodes = exec_out(victim, "stat", "-c", "%i %h", f"{DEST}/h", f"{DEST}/tmp/orig").split("\n")
    assert inodes[0] == inodes[1] and inodes[0].endswith(" 2"), inodes


async def test_setuid_setgid_and_sticky_bits_never_reach_the_container(
    hostile: Running, victim: Any
) -> None:
    archive = make_tar(
        (member("suid", mode=0o4755), b"#!/bin/sh\n"),
        (member("sgid", mode=0o2711), b"#!/bin/sh\n"),
        (member("shared", tarfile.DIRTYPE, mode=0o1777), None),
    )
    reply = await post_update(hostile.synclet, victim.id, spec(), archive)
    assert isinstance(reply.events[-1], Done), reply
    modes = {}
    for name in ("suid", "sgid", "shared"):
        info = file_in(victim, f"{DEST}/{name}")
        assert info is not None
        modes[name] = info.mode & 0o7777
    assert {name: mode & 0o7000 for name, mode in modes.items()} == dict.fromkeys(modes, 0)
    assert (modes["suid"], modes["sgid"]) == (0o755, 0o711)


def _escapes() -> dict[str, tuple[bytes, str]]:
    long_up = "a/" * 60 + "../" * 70 + "etc/evil"
    big_pax = {"comment": "c" * (MAX_META_HEADER + 1)}
    inner = make_tar(
        (member("etc/evil"), b"\0" * 200_000), (member("fifo", tarfile.FIFOTYPE), None)
    )
    return {
        "pax path with ..": (
            make_tar((member("fine.txt", pax={"path": "../../etc/evil"}), b"x")),
            "contains '..'",
        ),
        "pax path absolute": (
            make_tar((member("fine.txt", pax={"path": "/etc/evil"}), b"x")),
            "absolute name",
        ),
        "pax linkpath symlink out": (
            make_tar(
                (member("l", tarfile.SYMTYPE, linkname="ok", pax={"linkpath": "/etc"}), None),
                (member("l/evil"), b"x"),
            ),
            "symlink to '/etc'",
        ),
        "pax linkpath hard link out": (
            make_tar(
                (
                    member(
                        "h", tarfile.LNKTYPE, linkname="x", pax={"linkpath": "../../etc/passwd"}
                    ),
                    None,
                )
            ),
            "hard link to '../../etc/passwd'",
        ),
        "GNU long name with ..": (
            make_tar((member(long_up), b"x"), format=tarfile.GNU_FORMAT),
            "contains '..'",
        ),
        "GNU long link out": (
            make_tar(
                (member("l", tarfile.SYMTYPE, linkname="../" * 40 + "etc"), None),
                format=tarfile.GNU_FORMAT,
            ),
            "outside /app/dest",
        ),
        "gzip body": (gzip.compress(make_tar((member("a"), b"x"))), "gzip-compressed"),
        "gzip/tar hybrid": (gzip_tar_hybrid(b"small", inner), "gzip-compressed"),
        "huge pax header": (make_tar((member("a", pax=big_pax), b"x")), "long-name header"),
        "pax size lie": (make_tar((member("a", pax={"size": str(1 << 40)}), b"x")), "exceed"),
        "device under a pax name": (
            make_tar((member("x", tarfile.CHRTYPE, pax={"path": "null"}), None)),
            "'null' is a character device",
        ),
    }


ESCAPES = _escapes()


@pytest.mark.parametrize("case", list(ESCAPES))
async def test_escaping_archives_are_refused_whole(
    hostile: Running, victim: Any, case: str
) -> None:
    archive, needle = ESCAPES[case]
    before = changed_paths(victim)
    steps = (RunStep(("touch", "/app/dest/step-ran")),)
    reply = await post_update(hostile.synclet, victim.id, spec(steps=steps), archive)
    assert reply.status == 400, reply
    assert needle in (reply.error or ""), reply.error
    assert changed_paths(victim) == before
    assert file_in(victim, "/etc/evil") is None


# ---------------------------------------------------------------------------------------------
# The managed mark and container ids


@pytest.mark.parametrize(
    "labels", [{}, {"dev.tilt-lsp.managed": "1"}, {"dev.tilt-lsp.managed": "True"}]
)
async def test_a_container_without_the_managed_mark_is_refused_before_it_is_touched(
    hostile: Running,
    docker_client: Any,
    base_image: str,
    docker_resources: Any,
    labels: dict[str, str],
) -> None:
    stranger = run_container(
        docker_client, docker_resources, base_image, managed=False, labels=labels
    )
    before = changed_paths(stranger)
    steps = (RunStep(("sh", "-c", "echo pwned > /etc/pwned")),)
    update = UpdateSpec(
        deletes=("/etc/hostname",), changed=(), run_steps=steps, restart="container", dest="/"
    )
    for target in (stranger.id, stranger.name, stranger.id[:12]):
        reply = await post_update(
            hostile.synclet, target, update, make_tar((member("etc/evil"), b"x"))
        )
        assert reply.status == 403, reply
        assert "lack dev.tilt-lsp.managed=true" in (reply.error or "")
    assert changed_paths(stranger) == before
    stranger.reload()
    assert stranger.attrs["RestartCount"] == 0 and stranger.status == "running"


@pytest.mark.parametrize(
    "raw",
    [
        "..%2F..%2Fcontainers%2F{id}",
        "%2E%2E%2F{id}",
        "{id}%2F..%2F{id}",
        "{id}%00",
        "{id}%3Fsignal%3DKILL",
        "-{id}",
    ],
)
async def test_container_ids_that_are_not_ids_or_names_are_4xx(
    hostile: Running, victim: Any, raw: str
) -> None:
    before = changed_paths(victim)
    path = "/v1/containers/" + raw.format(id=victim.id) + "/update"
    url = yarl.URL(hostile.url + path, encoded=True)
    body = encode_request(spec(), make_tar((member("x.txt"), b"x")))
    headers = {"Authorization": f"Bearer {hostile.token}", "Content-Type": UPDATE_CONTENT_TYPE}
    async with aiohttp.ClientSession() as s, s.post(url, data=body, headers=headers) as r:
        assert 400 <= r.status < 500, (r.status, await r.text())
        assert "error" in await r.json()
    assert changed_paths(victim) == before


async def test_a_live_update_with_120_character_paths_lands_under_dest(
    hostile: Running, victim: Any, tmp_path: Path
) -> None:
    """tilt-lsp's own archive builder, dest=/app: names over 100 characters (pax) land at
    their place, not at the root (the bug the re-write fixed)."""
    from synclet.archive import build_archive

    rel = "src/components/" + "/".join(["dashboard-widgets"] * 5) + "/Widget.py"
    path = f"{DEST}/{rel}"
    assert len(path) >= 120
    before = changed_paths(victim)
    local = tmp_path / "Widget.py"
    local.write_text("class Widget: ...\n")
    update = UpdateSpec(deletes=(), changed=(path,), run_steps=(), restart="none", dest=DEST)
    reply = await post_update(
        hostile.synclet, victim.id, update, build_archive([(str(local), path)], DEST)
    )
    assert isinstance(reply.events[-1], Done), reply
    landed = file_in(victim, path)
    assert landed is not None and landed.size == len("class Widget: ...\n")
    assert file_in(victim, "/" + rel.split("/")[0]) is None, "nothing at the root"
    new = changed_paths(victim) - before
    assert _inside(new), new


def test_the_hybrid_really_would_have_unpacked_differently() -> None:
    """The hybrid above is a real attack: gzip and tar read two different archives from it."""
    inner = make_tar((member("big"), b"\0" * 1000))
    hybrid = gzip_tar_hybrid(b"small", inner)
    assert gzip.decompress(hybrid) == inner
    with tarfile.open(fileobj=io.BytesIO(hybrid), mode="r:") as tar:
        assert [m.size for m in tar] == [5]


async def test_an_unmanaged_container_is_refused_before_a_large_body_is_read(
    hostile: Running, docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    import socket

    stranger = run_container(docker_client, docker_resources, base_image, managed=False)
    host, port = hostile.url.removeprefix("http://").rsplit(":", 1)
    head = (
        f"POST /v1/containers/{stranger.id}/update HTTP/1.1\r\nHost: synclet\r\n"
        f"Authorization: Bearer {hostile.token}\r\nContent-Type: {UPDATE_CONTENT_TYPE}\r\n"
        f"Content-Length: {8 << 20}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head + b'{"restart":"none"}\n')  # and not one byte of the 8 MiB
        answer = b""
        while b"managed=true" not in answer and (chunk := sock.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403"), answer
    assert b"lack dev.tilt-lsp.managed=true" in answer
