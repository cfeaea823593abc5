"""Whatever the archive checks accept, GNU tar extracts without leaving the destination.

Random archives of files, directories, symlinks and hard links with names built from ``a``,
``b``, ``c``, ``.`` and ``..`` (targets also ``outside`` and ``secret``); every one the checks
accept is extracted for real with the host's GNU tar (the same tar as the base image) into
``sandbox/dest``, next to an ``outside`` directory holding a ``secret``. Nothing may appear
outside ``dest``, no link in it may resolve out of it, and no hard link may reach the secret.
Link targets are relative here: absolute ones name the container's root, which the sandbox
cannot stand in for (they are covered by test_safety.py).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synclet.safety import Refused, check_archive

pytestmark = pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")

# Names with ".." are always refused, so they are rare here; link targets are where it matters.
name = st.lists(st.sampled_from(["a", "b", "c", ".", "a", "b", ".."]), min_size=1, max_size=3).map(
    "/".join
)
target = st.lists(
    st.sampled_from(["a", "b", "c", ".", "..", "outside", "secret"]), min_size=1, max_size=4
).map("/".join)
kind = st.sampled_from(
    [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]
)
members = st.lists(st.tuples(name, kind, target), min_size=1, max_size=6)


def _archive(spec: list[tuple[str, bytes, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, type_, link in spec:
            info = tarfile.TarInfo(name)
            info.type = type_
            info.mode = 0o755 if type_ == tarfile.DIRTYPE else 0o644
            if type_ in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = link
                tar.addfile(info)
            elif type_ == tarfile.REGTYPE:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            else:
                tar.addfile(info)
    return buf.getvalue()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members)
def test_accepted_archives_stay_inside_dest(spec: list[tuple[str, bytes, str]]) -> None:
    data = _archive(spec)
    try:
        check_archive(data, "/dest")
    except Refused:
        return
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        dest, outside = sandbox / "dest", sandbox / "outside"
        dest.mkdir()
        outside.mkdir()
        (outside / "secret").write_text("s")
        subprocess.run(
            ["tar", "-x", "-f", "-", "-C", str(dest)], input=data, capture_output=True, check=False
        )
        assert sorted(p.name for p in sandbox.iterdir()) == ["dest", "outside"], spec
        assert [p.name for p in outside.iterdir()] == ["secret"], spec
        assert (outside / "secret").stat().st_nlink == 1, spec  # no hard link reaches it
        real_dest = os.path.realpath(dest)
        for root, dirs, files in os.walk(dest):
            for name in dirs + files:
                path = os.path.join(root, name)
                if os.path.islink(path):
                    resolved = os.path.realpath(path)
                    assert resolved == real_dest or resolved.startswith(real_dest + os.sep), (
                        spec,
                        path,
                        resolved,
                    )
