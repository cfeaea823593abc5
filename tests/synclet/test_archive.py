"""The client-side archive builder: names relative to dest, modes, mtimes, symlinks.

What the synclet makes of an archive before a container sees it: test_rewrite.py."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from synclet.archive import ArchiveError, build_archive, member_name
from synclet.safety import check_archive


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar}


def test_files_and_symlinks_keep_mode_and_mtime(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    os.utime(script, (1_600_000_000, 1_600_000_000))
    link = tmp_path / "current"
    link.symlink_to("run.sh")
    data = build_archive([(str(script), "/app/bin/run.sh"), (str(link), "/app/bin/current")])
    members = _members(data)
    assert set(members) == {"app/bin/run.sh", "app/bin/current"}
    run = members["app/bin/run.sh"]
    assert run.isreg() and run.mode == 0o755 and run.mtime == 1_600_000_000
    assert run.uid == 0 and run.gid == 0
    assert members["app/bin/current"].issym()
    assert members["app/bin/current"].linkname == "run.sh"
    # What the builder makes, the synclet accepts.
    assert check_archive(data, "/").files == 2


def test_names_relative_to_dest(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    assert set(_members(build_archive([(str(f), "/app/src/a.py")], dest="/app"))) == {"src/a.py"}
    assert member_name("/app//./src/a.py", "/app/") == "src/a.py"


@pytest.mark.parametrize(
    ("path", "dest", "needle"),
    [
        ("app/a.py", "/", "must be absolute"),
        ("/app/../etc/passwd", "/", "must not contain '..'"),
        ("/etc/passwd", "/app", "outside the destination"),
        ("/app", "/app", "the destination itself"),
    ],
)
def test_bad_container_paths(path: str, dest: str, needle: str) -> None:
    with pytest.raises(ArchiveError, match=needle):
        member_name(path, dest)


def test_only_files_and_symlinks(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="neither a regular file nor a symlink"):
        build_archive([(str(tmp_path), "/app/dir")])
    with pytest.raises(ArchiveError, match="does not exist"):
        build_archive([(str(tmp_path / "gone"), "/app/gone")])
