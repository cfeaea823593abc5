"""Whatever the synclet accepts, GNU tar extracts without leaving the destination.

Random archives of files, directories, symlinks and hard links with names built from ``a``,
``b``, ``c``, ``.`` and ``..`` (targets also ``outside`` and ``secret``), some over 100
characters, some renamed by a pax ``path``/``linkpath`` record, in GNU or pax format, with
setuid/setgid/sticky modes, sent as is or compressed. Each goes through the synclet's
re-write (:func:`synclet.rewrite.prepare_archive`, rooted at ``/``); every re-written
archive is extracted for real with the host's GNU tar (the same tar as the base image) at the
root of a sandbox holding ``dest`` and an ``outside`` directory with a ``secret``. Nothing may
appear outside ``dest``, no link in it may resolve out of it, no hard link may reach the
secret, no setuid/setgid/sticky bit may survive, and every regular file lands at its final
(pax/GNU) name. A compressed body is never accepted.
Link targets are relative here: absolute ones name the container's root, which the sandbox
cannot stand in for (they are covered by test_safety.py).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synclet.rewrite import prepare_archive
from synclet.safety import Limits, Refused

pytestmark = pytest.mark.skipif(shutil.which("tar") is None, reason="needs GNU tar")

# Names with ".." are always refused, so they are rare here; link targets are where it matters.
LONG = "L" * 60  # two of these make a name over 100 characters: a pax or GNU long name
component = st.sampled_from(["a", "b", "c", ".", "a", "b", "..", LONG])
name = st.lists(component, min_size=1, max_size=3).map("/".join)
target = st.lists(
    st.sampled_from(["a", "b", "c", ".", "..", "outside", "secret", LONG]), min_size=1, max_size=4
).map("/".join)
kind = st.sampled_from(
    [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE]
)
mode = st.sampled_from([0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o6777])
pax_name = st.none() | name  # a pax "path" (or "linkpath") that overrides the header's
Member = tuple[str, bytes, str, int, str | None, str | None]
members = st.lists(st.tuples(name, kind, target, mode, pax_name, pax_name), min_size=1, max_size=6)
fmt = st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda d: d,
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zlib": zlib.compress,
}
compression = st.sampled_from(["none", "none", "none", *COMPRESS])


def _archive(spec: list[Member], format: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=format) as tar:
        for name_, type_, link, mode_, pax_path, pax_link in spec:
            info = tarfile.TarInfo(name_)
            info.type = type_
            info.mode = mode_
            if format == tarfile.PAX_FORMAT:
                info.pax_headers = {
                    k: v for k, v in (("path", pax_path), ("linkpath", pax_link)) if v
                }
            if type_ in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = link
                tar.addfile(info)
            elif type_ == tarfile.REGTYPE:
                info.size = 1
                tar.addfile(info, io.BytesIO(b"x"))
            else:
                tar.addfile(info)
    return buf.getvalue()


def _final_files(data: bytes) -> list[str]:
    """The regular files' names as tarfile reads them (pax and GNU names applied)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return [m.name for m in tar if m.isreg()]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members, fmt, compression)
def test_accepted_archives_stay_inside_dest(spec: list[Member], format: int, how: str) -> None:
    plain = _archive(spec, format)
    body = COMPRESS[how](plain)
    out = io.BytesIO()
    try:
        prepare_archive(io.BytesIO(body), "/dest", Limits(), out)  # type: ignore[arg-type]
    except Refused:
        return
    assert how == "none", f"a {how}-compressed body was accepted: {spec}"
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = Path(tmp)
        dest, outside = sandbox / "dest", sandbox / "outside"
        dest.mkdir()
        outside.mkdir()
        (outside / "secret").write_text("s")
        done = subprocess.run(
            ["tar", "-x", "-f", "-", "-C", str(sandbox)],
            input=out.getvalue(),
            capture_output=True,
            check=False,
        )
        assert sorted(p.name for p in sandbox.iterdir()) == ["dest", "outside"], spec
        assert [p.name for p in outside.iterdir()] == ["secret"], spec
        assert (outside / "secret").stat().st_nlink == 1, spec  # no hard link reaches it
        real_dest = os.path.realpath(dest)
        for root, dirs, files in os.walk(dest):
            for name_ in dirs + files:
                path = os.path.join(root, name_)
                if os.path.islink(path):
                    resolved = os.path.realpath(path)
                    assert resolved == real_dest or resolved.startswith(real_dest + os.sep), (
                        spec,
                        path,
                        resolved,
                    )
                else:
                    assert os.lstat(path).st_mode & 0o7000 == 0, (spec, path)
        if done.returncode == 0:
            for final in _final_files(plain):
                assert os.path.isfile(dest / final), (spec, final)
