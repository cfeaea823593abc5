"""Benchmark of the Docker loop (issue: Docker incremental builds, compose deploys, synclet).

For each app, in one run on this engine, the time from saving app.py until the new code
answers on its HTTP port:

1. tilt-lsp: the engine (``Engine.files_changed``, what ``didSave`` calls) running
   examples/compose-python under docker-compose; the synclet syncs the file and restarts the
   process (the example's restart-on-SIGHUP wrapper).
2. vanilla: ``docker build`` (the SDK's build of the same context, the layer cache warm) and
   replacing the container (``docker rm -f`` + ``docker run``), what a developer without a
   live-update tool does.
3. floor: ``put_archive`` of the file + SIGHUP to the container's PID 1, straight through the
   Docker SDK: no tilt-lsp, no synclet, no planning.

Apps: the tiny example, and the same app with a slow build step after ``COPY`` (``RUN sleep 3``,
standing in for a compile). Also the fast build (layer the synced files on the last full-build
image: create + put_archive + commit) against a full build of the same change.

Medians of ``--runs`` (≥ 9) saves. Usage: python bench/bench_docker.py [--runs 9]
Needs the Docker engine, docker-compose and the offline base image (scripts/base-image).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import socket
import statistics
import sys
import tarfile
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker

from tilt_lsp.build import labels as lbl
from tilt_lsp.build.builder import ImageBuilder
from tilt_lsp.build.layered import layer_image
from tilt_lsp.engine.engine import Engine
from tilt_lsp.tiltfile.loader import load_tiltfile

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "compose-python"
BASE_IMAGE = os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "tilt-lsp-test-base:bookworm-py3")
DEFAULT = "Hello from compose-python!"
BENCH_LABELS = {"dev.tilt-lsp.bench": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as resp:
            return str(resp.read().decode()).strip()
    except Exception:
        return ""


def wait_serving(port: int, text: str, t0: float, timeout: float = 60.0) -> float:
    while time.perf_counter() - t0 < timeout:
        if get(port) == text:
            return time.perf_counter() - t0
        time.sleep(0.003)
    raise RuntimeError(f"port {port} never served {text!r}")


def make_app(slow: bool) -> Path:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-docker-")) / "app"
    shutil.copytree(EXAMPLE, root)
    if slow:
        dockerfile = root / "Dockerfile"
        dockerfile.write_text(
            dockerfile.read_text().replace("COPY . /app\n", "COPY . /app\nRUN sleep 3\n")
        )
    return root


def edit(app: Path, text: str) -> None:
    src = (EXAMPLE / "app.py").read_text().replace(DEFAULT, text)
    app.write_text(src)


def stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"median": statistics.median(ms), "min": ms[0], "max": ms[-1]}


# -- tilt-lsp ----------------------------------------------------------------------------


async def bench_tilt_lsp(root: Path, runs: int) -> tuple[dict[str, float], list[str]]:
    port = free_port()
    project = f"tiltlspbench{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "BASE_IMAGE": BASE_IMAGE,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
    }
    engine = Engine(str(root / "Tiltfile"), env=env)
    await engine.start()
    try:
        if not await engine.wait_settled(300):
            raise RuntimeError("tilt-lsp did not settle")
        await asyncio.to_thread(wait_serving, port, DEFAULT, time.perf_counter())
        await asyncio.sleep(1.0)  # the synclet warms up after the first deploy
        samples = []
        for i in range(runs + 1):  # the first save is a warm-up
            text = f"tilt-lsp {i} {uuid.uuid4().hex[:6]}"
            await asyncio.to_thread(edit, root / "app.py", text)  # the engine's loop runs
            t0 = time.perf_counter()
            engine.files_changed([str(root / "app.py")], origin="bench")
            elapsed = await asyncio.to_thread(wait_serving, port, text, t0)
            if i:
                samples.append(elapsed)
            await asyncio.sleep(0.3)
        log = engine.logs("web", 0)
        assert not any("building" in line for line in log[-runs * 4 :]), "a save rebuilt"
        return stats(samples), [line for line in log if line.startswith("live update:")][-3:]
    finally:
        await engine.stop()
        client = docker.from_env()
        lbl.remove_stale_images(client.api, lbl.managed_labels(str(root)), keep=())
        client.close()


# -- vanilla and floor -------------------------------------------------------------------


def build(client: Any, root: Path, tag: str) -> None:
    client.images.build(
        path=str(root),
        tag=tag,
        buildargs={"BASE_IMAGE": BASE_IMAGE},
        labels=BENCH_LABELS,
        rm=True,
        forcerm=True,
        pull=False,
    )


def run(client: Any, tag: str, port: int) -> Any:
    return client.containers.run(
        tag, detach=True, labels=BENCH_LABELS, ports={"8000/tcp": ("127.0.0.1", port)}
    )


def bench_container(
    client: Any, root: Path, runs: int, kind: str, update: Callable[[Any, str, int], Any]
) -> dict[str, float]:
    """Build and run the app, then time ``runs`` saves, each applied by ``update(container,
    tag, port)`` (which returns the container that serves afterwards)."""
    edit(root / "app.py", DEFAULT)
    tag = f"tilt-lsp-bench/{kind}:{uuid.uuid4().hex[:8]}"
    port = free_port()
    samples = []
    container = None
    try:
        build(client, root, tag)
        container = run(client, tag, port)
        wait_serving(port, DEFAULT, time.perf_counter())
        for i in range(runs + 1):
            text = f"{kind} {i} {uuid.uuid4().hex[:6]}"
            edit(root / "app.py", text)
            t0 = time.perf_counter()
            container = update(container, tag, port)
            elapsed = wait_serving(port, text, t0)
            if i:
                samples.append(elapsed)
    finally:
        if container is not None:
            container.remove(force=True)
        # Each build re-tags: earlier builds are left untagged, with the bench label.
        lbl.remove_stale_images(client.api, BENCH_LABELS, keep=())
    return stats(samples)


def bench_vanilla(client: Any, root: Path, runs: int) -> dict[str, float]:
    def rebuild_and_replace(container: Any, tag: str, port: int) -> Any:
        build(client, root, tag)
        container.remove(force=True)
        return run(client, tag, port)

    return bench_container(client, root, runs, "vanilla", rebuild_and_replace)


def one_file_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def bench_floor(client: Any, root: Path, runs: int) -> dict[str, float]:
    def put_and_signal(container: Any, tag: str, port: int) -> Any:
        archive = one_file_tar("app.py", (root / "app.py").read_bytes())
        client.api.put_archive(container.id, "/app", archive)
        client.api.kill(container.id, signal="SIGHUP")
        return container

    return bench_container(client, root, runs, "floor", put_and_signal)


# -- the fast build ----------------------------------------------------------------------


def bench_fast_build(
    client: Any, root: Path, runs: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Layered (create + put_archive + commit from the last full build) vs a full build of
    the same one-file change (the builder's own incremental context, the layer cache warm)."""
    model = load_tiltfile(str(root / "Tiltfile"), {**os.environ, "BASE_IMAGE": BASE_IMAGE})
    image = model.images[0]
    labels = {**lbl.managed_labels(str(root)), **BENCH_LABELS}
    builder = ImageBuilder(image, client.api, labels)
    full = builder.build(None, lambda line: None)
    layered, rebuilt = [], []
    try:
        for i in range(runs + 1):
            edit(root / "app.py", f"fast {i} {uuid.uuid4().hex[:6]}")
            t0 = time.perf_counter()
            archive = one_file_tar("app/app.py", (root / "app.py").read_bytes())
            layer_image(client.api, full.ref, image.repository, archive, labels)
            t1 = time.perf_counter()
            builder.build([str(root / "app.py")], lambda line: None)
            t2 = time.perf_counter()
            if i:
                layered.append(t1 - t0)
                rebuilt.append(t2 - t1)
    finally:
        lbl.remove_containers(client.api, labels)
        lbl.remove_stale_images(client.api, lbl.managed_labels(str(root)), keep=())
    return stats(layered), stats(rebuilt)


def row(what: str, s: dict[str, float], note: str = "") -> str:
    return f"| {what} | {s['median']:.0f} ms | {s['min']:.0f}-{s['max']:.0f} ms | {note} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    runs = max(args.runs, 1)
    client = docker.from_env(timeout=600)
    out: list[str] = []
    ratios: list[str] = []
    for slow in (False, True):
        name = "slow build (`RUN sleep 3` after COPY)" if slow else "tiny app"
        root = make_app(slow)
        tilt, lines = asyncio.run(bench_tilt_lsp(root, runs))
        print(f"{name}: tilt-lsp {tilt}", *lines, sep="\n  ", file=sys.stderr)
        vanilla = bench_vanilla(client, root, runs)
        print(f"{name}: vanilla {vanilla}", file=sys.stderr)
        floor = bench_floor(client, root, runs)
        print(f"{name}: floor {floor}", file=sys.stderr)
        out += [
            row(
                f"{name}: save → serving, tilt-lsp",
                tilt,
                "synclet: files into the container (archive API, the container runs as root), SIGHUP restart",
            ),
            row(f"{name}: vanilla, docker build + replace the container", vanilla, ""),
            row(f"{name}: floor, put_archive + SIGHUP through the SDK", floor, ""),
        ]
        ratios.append(
            f"| {name} | {vanilla['median'] / tilt['median']:.1f}x faster than vanilla | "
            f"{tilt['median'] / floor['median']:.2f}x the floor |"
        )
        if not slow:
            layered, rebuilt = bench_fast_build(client, root, runs)
            out += [
                row(
                    "fast build: layer app.py on the last full build (create + put_archive + commit)",
                    layered,
                    "",
                ),
                row("full build of the same change (context cache, layer cache warm)", rebuilt, ""),
            ]
        shutil.rmtree(root.parent, ignore_errors=True)
    lbl.remove_containers(client.api, BENCH_LABELS)
    print("| what | median | min-max | notes |\n| --- | --- | --- | --- |")
    print("\n".join(out))
    print("\n| app | speed-up | against the floor |\n| --- | --- | --- |")
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
