"""The build context: what Docker sees, and that a rebuild reads only what changed."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

from tilt_lsp.build.context import BuildContext, read_tar_names


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_dockerignore_ignore_and_only(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM scratch\n")
    write(tmp_path / ".dockerignore", "*.log\nbuild/\n!build/keep.txt\n")
    write(tmp_path / "app.py", "print(1)\n")
    write(tmp_path / "debug.log", "x")
    write(tmp_path / "build" / "out.o", "x")
    write(tmp_path / "build" / "keep.txt", "x")
    write(tmp_path / "secrets" / "key", "x")
    ctx = BuildContext(str(tmp_path), ignore=("secrets",), dockerfile=str(tmp_path / "Dockerfile"))
    names = set(ctx.scan().files)
    assert names == {"Dockerfile", ".dockerignore", "app.py", "build/keep.txt"}

    only = BuildContext(str(tmp_path), only=("build",), dockerfile=str(tmp_path / "Dockerfile"))
    # only= keeps the listed paths; the Dockerfile and .dockerignore always go.
    assert set(only.scan().files) == {"Dockerfile", ".dockerignore", "build/keep.txt"}


def test_tar_holds_the_files_with_their_content(tmp_path: Path) -> None:
    write(tmp_path / "a" / "b.txt", "hello")
    os.chmod(tmp_path / "a" / "b.txt", 0o755)
    ctx = BuildContext(str(tmp_path))
    snap = ctx.scan()
    data = ctx.tar(snap, {".tilt-lsp.Dockerfile": b"FROM x\n"})
    assert read_tar_names(data) == ["a/b.txt", ".tilt-lsp.Dockerfile"]
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        member = tf.getmember("a/b.txt")
        assert member.mode == 0o755
        f = tf.extractfile(member)
        assert f is not None and f.read() == b"hello"


def test_digest_follows_content_not_mtime(tmp_path: Path) -> None:
    f = write(tmp_path / "app.py", "one")
    ctx = BuildContext(str(tmp_path))
    first = ctx.scan().digest
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert ctx.scan().digest == first
    f.write_text("two")
    assert ctx.scan().digest != first


def test_deleted_and_added_files_through_changed_paths(tmp_path: Path) -> None:
    a = write(tmp_path / "a.py", "a")
    ctx = BuildContext(str(tmp_path))
    ctx.scan()
    a.unlink()
    b = write(tmp_path / "pkg" / "b.py", "b")
    snap = ctx.scan([str(a), str(b.parent)])
    assert set(snap.files) == {"pkg/b.py"}
    assert not ctx.stats.walked


def test_ten_thousand_file_context_rescan_reads_only_the_changed_file(tmp_path: Path) -> None:
    for i in range(10_000):
        write(tmp_path / f"d{i // 100}" / f"f{i}.py", f"x = {i}\n" * 20)
    ctx = BuildContext(str(tmp_path))
    t0 = time.perf_counter()
    first = ctx.scan()
    cold = time.perf_counter() - t0
    assert ctx.stats.files_read == 10_000

    changed = tmp_path / "d42" / "f4242.py"
    changed.write_text("x = 'changed'\n")
    t0 = time.perf_counter()
    warm = ctx.scan([str(changed)])
    incremental = time.perf_counter() - t0
    assert ctx.stats.files_read == 1 and ctx.stats.stat_calls == 1
    assert warm.digest != first.digest

    t0 = time.perf_counter()
    tar = ctx.tar(warm)
    tar_s = time.perf_counter() - t0
    assert len(read_tar_names(tar)) == 10_000

    changed.write_text("x = 'again'\n")
    ctx.scan()  # a full re-stat (no changed paths known) still reads one file
    assert ctx.stats.files_read == 1 and ctx.stats.walked
    print(f"cold {cold * 1000:.0f} ms, one change {incremental * 1000:.2f} ms, "
          f"tar {tar_s * 1000:.0f} ms")
    assert incremental < cold / 20
