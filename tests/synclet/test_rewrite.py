"""What the synclet makes of an archive before any container sees it (pure, no Docker).

Archives are crafted here with tarfile and zlib/bz2/lzma, never with synclet code: pax and
GNU headers that rename members, modes with setuid bits, lying sizes, compressed and hybrid
bodies. What a real container gets from the same archives is in test_attacks.py.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile

import pytest

from synclet.rewrite import prepare_archive
from synclet.safety import MAX_META_HEADER, Limits, Refused
from tests.synclet.helpers import make_tar, member

LIMITS = Limits(max_members=100, max_bytes=1 << 20)


def rewrite(archive: bytes, dest: str = "/app/dest", limits: Limits = LIMITS) -> bytes:
    out = io.BytesIO()
    prepare_archive(io.BytesIO(archive), dest, limits, out)  # type: ignore[arg-type]
    return out.getvalue()


def members(archive: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
        return {m.name: m for m in tar}


def test_a_pax_path_is_the_name_that_is_checked_and_written() -> None:
    # The ustar name says one thing, the pax record another: the pax record wins (as in GNU
    # tar and Docker), so that is the name prefixed with dest; no stale pax path survives.
    data = make_tar((member("innocent.txt", pax={"path": "tmp/x"}), b"x"))
    out = members(rewrite(data))
    assert list(out) == ["./app/dest/tmp/x"]
    assert "path" not in out["./app/dest/tmp/x"].pax_headers


def test_a_pax_linkpath_is_prefixed_too() -> None:
    data = make_tar(
        (member("tmp/orig"), b"o"),
        (member("h", tarfile.LNKTYPE, linkname="elsewhere", pax={"linkpath": "tmp/orig"}), None),
    )
    out = members(rewrite(data))
    assert out["./app/dest/h"].linkname == "./app/dest/tmp/orig"


@pytest.mark.parametrize(
    ("pax", "needle"),
    [
        ({"path": "../../etc/evil"}, "contains '..'"),
        ({"path": "/etc/evil"}, "absolute name"),
    ],
)
def test_a_pax_path_escaping_dest_is_refused(pax: dict[str, str], needle: str) -> None:
    with pytest.raises(Refused, match=needle):
        rewrite(make_tar((member("fine.txt", pax=pax), b"x")))


def test_a_pax_linkpath_escaping_dest_is_refused() -> None:
    link = member("l", tarfile.SYMTYPE, linkname="ok", pax={"linkpath": "../../../etc"})
    with pytest.raises(Refused, match=re.escape("symlink to '../../../etc'")):
        rewrite(make_tar((link, None)))


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_names_over_100_characters_land_under_dest(fmt: int) -> None:
    long = "src/" + "/".join(["component" * 3] * 4) + "/Widget.py"
    assert len(long) > 100
    out = members(rewrite(make_tar((member(long), b"w"), format=fmt), dest="/app"))
    assert list(out) == [f"./app/{long}"]


def test_gnu_long_names_and_links_escaping_are_refused() -> None:
    deep = "a/" * 60 + "../" * 70 + "etc/evil"
    with pytest.raises(Refused, match=re.escape("contains '..'")):
        rewrite(make_tar((member(deep), b"x"), format=tarfile.GNU_FORMAT))
    link = member("l", tarfile.SYMTYPE, linkname="../" * 40 + "etc")
    with pytest.raises(Refused, match="outside /app/dest"):
        rewrite(make_tar((link, None), format=tarfile.GNU_FORMAT))


def test_setuid_setgid_and_sticky_bits_are_dropped_and_owners_are_root() -> None:
    suid = member("suid", mode=0o4755)
    suid.uid, suid.gid, suid.uname = 1234, 99, "mallory"
    data = make_tar(
        (suid, b"#!/bin/sh\n"),
        (member("sgid", mode=0o2755), b"x"),
        (member("tmp", tarfile.DIRTYPE, mode=0o1777), None),
    )
    out = members(rewrite(data))
    assert {n: m.mode for n, m in out.items()} == {
        "./app/dest/suid": 0o755,
        "./app/dest/sgid": 0o755,
        "./app/dest/tmp": 0o777,
    }
    assert {(m.uid, m.gid, m.uname) for m in out.values()} == {(0, 0, "")}


def test_only_files_dirs_and_links_are_written_and_dest_itself_is_not() -> None:
    data = make_tar(
        (member(".", tarfile.DIRTYPE, mode=0o700), None),
        (member("d", tarfile.DIRTYPE), None),
        (member("d/f"), b"f"),
        (member("s", tarfile.SYMTYPE, linkname="d/f"), None),
    )
    out = members(rewrite(data))
    assert {n: m.type for n, m in out.items()} == {
        "./app/dest/d": tarfile.DIRTYPE,
        "./app/dest/d/f": tarfile.REGTYPE,
        "./app/dest/s": tarfile.SYMTYPE,
    }


def test_xattrs_and_other_pax_records_are_not_carried_over() -> None:
    pax = {"SCHILY.xattr.security.capability": "\x01\x00\x00\x02", "uname": "root"}
    out = members(rewrite(make_tar((member("bin", pax=pax), b"x"))))
    assert not any(k.startswith("SCHILY") for m in out.values() for k in m.pax_headers)


def test_sizes_are_bounded_on_what_is_written() -> None:
    with pytest.raises(Refused, match="exceed 1024 bytes"):
        rewrite(make_tar((member("a"), b"x" * 2000)), limits=Limits(max_bytes=1024))
    # A pax size record that lies upwards: the contents it claims are not there.
    lying = make_tar((member("a", pax={"size": str(1 << 40)}), b"x"))
    with pytest.raises(Refused, match=r"exceed|not a valid"):
        rewrite(lying)


def test_a_huge_pax_header_is_refused_before_it_is_read() -> None:
    data = make_tar((member("a", pax={"comment": "c" * (MAX_META_HEADER + 10)}), b"x"))
    with pytest.raises(Refused, match="pax or GNU long-name header"):
        rewrite(data, limits=Limits(max_bytes=1 << 30))


@pytest.mark.parametrize(
    "compress",
    [
        gzip.compress,
        bz2.compress,
        lzma.compress,
        lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    ],
)
def test_compressed_bodies_are_refused(compress: object) -> None:
    assert callable(compress)
    with pytest.raises(Refused):
        rewrite(compress(make_tar((member("a"), b"x"))))


def gzip_tar_hybrid(small: bytes, inner: bytes) -> bytes:
    """One body, two readings: a tar whose only member is ``small``, and a gzip stream of
    ``inner`` (the gzip header's extra field spans the tar member; what follows it is not a
    valid tar header, so tar readers stop there)."""
    import zlib

    info = tarfile.TarInfo("\x1f\x8b\x08\x04")
    info.size = len(small)
    assert len(small) <= 512
    header = bytearray(info.tobuf(tarfile.USTAR_FORMAT, encoding="latin-1"))
    xlen = 1024 - 12
    header[10:12] = xlen.to_bytes(2, "little")  # inside the name field, after its NUL
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    body = bytes(header) + small.ljust(512, b"\0")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = deflate.compress(inner) + deflate.flush()
    trailer = zlib.crc32(inner).to_bytes(4, "little") + (len(inner) & 0xFFFFFFFF).to_bytes(
        4, "little"
    )
    return body + stream + trailer


def test_a_gzip_tar_hybrid_is_refused() -> None:
    inner = make_tar((member("big"), b"\0" * 100_000), (member("fifo", tarfile.FIFOTYPE), None))
    hybrid = gzip_tar_hybrid(b"small", inner)
    # The two readings really differ: tarfile sees one small file, gzip the other archive.
    with tarfile.open(fileobj=io.BytesIO(hybrid), mode="r:") as tar:
        assert [m.size for m in tar] == [5]
    assert gzip.decompress(hybrid) == inner
    with pytest.raises(Refused, match="gzip-compressed"):
        rewrite(hybrid, dest="/")


@pytest.mark.parametrize("name", ["\x1f\x8b\x08x", "BZh91AY", "\xfd7zXZ"])
def test_every_written_name_starts_with_dot_slash(name: str) -> None:
    # So the output never starts with a compression signature, whatever the names are.
    out = rewrite(make_tar((member("z" * 101), b"z"), (member(name), b"x")), dest="/")
    assert out[:2] == b"./" and list(members(out)) == ["./" + "z" * 101, "./" + name]


def test_names_that_are_not_utf8_are_refused() -> None:
    data = make_tar((member("caf\udce9"), b"x"), format=tarfile.GNU_FORMAT)
    with pytest.raises(Refused, match="not valid UTF-8"):
        rewrite(data)
