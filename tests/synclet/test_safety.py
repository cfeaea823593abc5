"""Unsafe archives and deletes are refused whole, naming the offending member (pure checks).

The same cases go through a real synclet and container in test_server.py, which also proves
nothing was written; here the edge cases of link resolution are pinned down cheaply.
"""

from __future__ import annotations

import tarfile

import pytest

from synclet.protocol import UpdateSpec
from synclet.safety import Limits, Refused, check_archive, check_deletes, check_update
from tests.synclet.helpers import make_tar, member


def _spec(deletes: tuple[str, ...] = (), dest: str = "/app") -> UpdateSpec:
    return UpdateSpec(deletes=deletes, changed=(), run_steps=(), restart="none", dest=dest)


def test_plain_archive_is_summarised() -> None:
    data = make_tar(
        (member("src", tarfile.DIRTYPE, mode=0o755), None),
        (member("src/a.py"), b"print(1)\n"),
        (member("src/b.py", tarfile.SYMTYPE, linkname="a.py"), None),
        (member("src/c.py", tarfile.LNKTYPE, linkname="src/a.py"), None),
        (member("lib", tarfile.SYMTYPE, linkname="/app/src"), None),
    )
    summary = check_archive(data, "/app")
    assert (summary.files, summary.bytes, summary.members) == (4, 9, 5)
    assert summary.parents == ("/app", "/app/src")  # what confine.py walks in the container
    assert check_archive(b"", "/app").members == 0


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        ([(member("/etc/cron.d/x"), b"x")], "'/etc/cron.d/x' has an absolute name"),
        ([(member("src/../../etc/passwd"), b"x")], "'src/../../etc/passwd' contains '..'"),
        (
            [(member("evil", tarfile.SYMTYPE, linkname="/etc"), None)],
            "'evil' is a symlink to '/etc', which is outside /app",
        ),
        ([(member("evil", tarfile.SYMTYPE, linkname="../etc"), None)], "outside /app"),
        ([(member("sub/evil", tarfile.SYMTYPE, linkname="../../"), None)], "outside /app"),
        (
            [(member("evil", tarfile.LNKTYPE, linkname="../etc/passwd"), None)],
            "'evil' is a hard link to '../etc/passwd'",
        ),
        (
            [(member("evil", tarfile.LNKTYPE, linkname="/etc/passwd"), None)],
            "hard link to '/etc/passwd'",
        ),
        ([(member("tty", tarfile.CHRTYPE), None)], "'tty' is a character device"),
        ([(member("disk", tarfile.BLKTYPE), None)], "'disk' is a block device"),
        ([(member("pipe", tarfile.FIFOTYPE), None)], "'pipe' is a fifo"),
        # A link to "." is inside, but following it with ".." is not.
        (
            [
                (member("here", tarfile.SYMTYPE, linkname="."), None),
                (member("up", tarfile.SYMTYPE, linkname="here/.."), None),
            ],
            "'up' is a symlink to 'here/..'",
        ),
        # A member written through a link the archive itself makes, listed before the link.
        (
            [
                (member("evil/passwd"), b"x"),
                (member("evil", tarfile.SYMTYPE, linkname="/etc"), None),
            ],
            "'evil/passwd' would be written through a link outside /app",
        ),
        # Links that point at each other.
        (
            [
                (member("here", tarfile.SYMTYPE, linkname="."), None),
                (member("ok.txt"), b"fine"),
                (member("a", tarfile.SYMTYPE, linkname="b"), None),
                (member("b", tarfile.SYMTYPE, linkname="a"), None),
            ],
            "'a' is part of a symlink loop",
        ),
        ([(member("", tarfile.REGTYPE), b"x")], "would replace the destination"),
        # Found by test_safety_property.py: GNU tar keeps the first of two links named alike.
        (
            [
                (member("b", tarfile.SYMTYPE, linkname=".."), None),
                (member("./b", tarfile.SYMTYPE, linkname="a"), None),
            ],
            "'./b' appears more than once",
        ),
    ],
)
def test_unsafe_members_are_refused_by_name(
    members: list[tuple[tarfile.TarInfo, bytes | None]], needle: str
) -> None:
    data = make_tar(*members)
    with pytest.raises(Refused, match=needle.replace("(", r"\(").replace(".", r"\.")):
        check_update(_spec(), data)


def test_links_inside_dest_are_fine() -> None:
    data = make_tar(
        (member("here", tarfile.SYMTYPE, linkname="."), None),
        (member("node_modules/.bin/tool", tarfile.SYMTYPE, linkname="../tool/cli.js"), None),
        (member("abs", tarfile.SYMTYPE, linkname="/app/src/./x"), None),
        (member("here/x.txt"), b"through a link that stays inside"),
    )
    summary = check_archive(data, "/app")
    assert summary.files == 4
    # Parents are given after following the archive's own links: here/x.txt is written in /app.
    assert summary.parents == ("/app", "/app/node_modules/.bin")
    # With dest "/" every absolute link target is inside.
    assert (
        check_archive(make_tar((member("conf", tarfile.SYMTYPE, linkname="/etc"), None)), "/").files
        == 1
    )


def test_limits() -> None:
    data = make_tar(*[(member(f"f{i}"), b"12345") for i in range(5)])
    with pytest.raises(Refused, match="more than 4 members"):
        check_archive(data, "/app", Limits(max_members=4))
    with pytest.raises(Refused, match="exceed 20 bytes"):
        check_archive(data, "/app", Limits(max_bytes=20))
    with pytest.raises(Refused, match="not a valid uncompressed tar"):
        check_archive(b"\x1f\x8b" + b"\0" * 600, "/app")


@pytest.mark.parametrize(
    ("deletes", "needle"),
    [
        (("/etc/passwd",), "'/etc/passwd' is outside the destination /app"),
        (("/app/../etc",), "contains '..'"),
        (("app/x",), "not an absolute container path"),
        (("/app/",), "would remove the whole destination"),
        (("/application",), "outside the destination"),
    ],
)
def test_unsafe_deletes(deletes: tuple[str, ...], needle: str) -> None:
    with pytest.raises(Refused, match=needle.replace(".", r"\.")):
        check_deletes(_spec(deletes))


def test_deletes_normalised() -> None:
    assert check_deletes(_spec(("/app//src/./old.py",))) == ["/app/src/old.py"]


def test_dest_with_dot_dot_is_refused() -> None:
    with pytest.raises(Refused, match=r"destination '/app/\.\./etc' must be an absolute"):
        check_update(_spec(dest="/app/../etc"), make_tar((member("passwd"), b"x")))
