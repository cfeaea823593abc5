"""Benchmark of the Docker loop on unmodified apps (issue #10, "fast by default").

The apps are written as users write them: nothing in them knows about tilt-lsp. Python
(``CMD ["python3", "-u", "src/app.py"]``, ``http.server``'s ``serve_forever``) and Node
(``CMD ["node", "src/server.js"]``, a plain ``http.createServer``); no signal handling, so as
PID 1 each ignores SIGTERM. Each tiny, and with a slow build step after ``COPY src``
(``RUN sleep 3``, standing in for a compile). The Tiltfile is ``docker_compose`` +
``docker_build(live_update=[sync('src', '/app/src'), restart_container()])``.

For each app, in one run on this engine, the time from saving the source until the new code
answers on its HTTP port:

1. tilt-lsp: the engine (``Engine.files_changed``, what ``didSave`` calls) under
   docker-compose. tilt-lsp built the image with its restart wrapper around the app's CMD, so
   the synclet syncs the file and restarts the process in the same container (checked: the
   container id does not change).
2. vanilla: ``docker build`` of the user's Dockerfile (the layer cache warm) and replacing the
   container (``docker rm -f`` + ``docker run``), what a developer without a live-update tool
   does.
3. floor: ``put_archive`` of the file + SIGHUP to the container's PID 1 (the restart wrapper in
   the image tilt-lsp built), straight through the Docker SDK: no tilt-lsp, no synclet, no
   planning, no checks. Interleaved with the tilt-lsp saves, on the same container, so both
   see the same machine load.

Medians of ``--runs`` saves after a warm-up save. Usage: python bench/bench_docker.py
[--runs 9] [--apps python,node]. Needs the Docker engine, docker-compose and the offline base
image (scripts/base-image). The Node apps need ``node`` on the host: with no registry, the
Node base image is the Python base image plus the host's node binary and the two C++ runtime
libraries it links (``ldd``); made once, labelled ``dev.tilt-lsp.bench=node-base``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from tilt_lsp.build import labels as lbl
from tilt_lsp.engine.engine import Engine

BASE_IMAGE = os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "tilt-lsp-test-base:bookworm-py3")
NODE_BASE = "tilt-lsp-bench-node:bookworm"
# This run's own label: a concurrent benchmark's images are never touched.
BENCH_LABELS = {"dev.tilt-lsp.bench": f"docker-{uuid.uuid4().hex[:10]}"}

PYTHON_APP = """from http.server import BaseHTTPRequestHandler, HTTPServer

MESSAGE = "v0"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(MESSAGE.encode())

    def log_message(self, *args):
        pass


print("serving on 8000")
HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""

NODE_APP = """const http = require("http");

const MESSAGE = "v0";

http.createServer((req, res) => res.end(MESSAGE)).listen(8000);
console.log("serving on 8000");
"""


@dataclass(frozen=True)
class Lang:
    name: str
    file: str  # under src/
    source: str
    cmd: str
    base: str


PYTHON = Lang("Python", "app.py", PYTHON_APP, '["python3", "-u", "src/app.py"]', BASE_IMAGE)
NODE = Lang("Node", "server.js", NODE_APP, '["node", "src/server.js"]', NODE_BASE)


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


def make_app(lang: Lang, slow: bool) -> Path:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-docker-")) / "app"
    (root / "src").mkdir(parents=True)
    (root / "src" / lang.file).write_text(lang.source)
    slow_step = "RUN sleep 3\n" if slow else ""
    (root / "Dockerfile").write_text(
        f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nWORKDIR /app\nCOPY src /app/src\n{slow_step}"
        f"CMD {lang.cmd}\n"
    )
    image = f"bench10-{lang.name.lower()}{'-slow' if slow else ''}"
    (root / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: {image}\n    build: .\n"
        '    ports:\n      - "127.0.0.1:${WEB_PORT}:8000"\n'
    )
    (root / "Tiltfile").write_text(
        "docker_compose('docker-compose.yml')\n"
        f"docker_build('{image}', '.', build_args={{'BASE_IMAGE': os.getenv('BASE_IMAGE')}},\n"
        "    live_update=[sync('src', '/app/src'), restart_container()])\n"
    )
    return root


def edit(root: Path, lang: Lang, text: str) -> None:
    (root / "src" / lang.file).write_text(lang.source.replace('"v0"', f'"{text}"'))


def stats(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {"median": statistics.median(ms), "min": ms[0], "max": ms[-1]}


def node_base(client: Any) -> str:
    """The Python base image plus the host's node (no registry to pull one from)."""
    try:
        client.images.get(NODE_BASE)
        return NODE_BASE
    except docker.errors.ImageNotFound:
        pass
    node = shutil.which("node")
    if node is None:
        raise SystemExit("the Node apps need `node` on the host (or pass --apps python)")
    node = os.path.realpath(node)
    ctx = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-node-"))
    shutil.copy2(node, ctx / "node")
    libs = []
    ldd = subprocess.run(["ldd", node], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        parts = line.split("=>")
        if len(parts) == 2 and ("libstdc++" in parts[0] or "libgcc_s" in parts[0]):
            path = parts[1].split("(")[0].strip()
            shutil.copy2(os.path.realpath(path), ctx / parts[0].strip())
            libs.append(parts[0].strip())
    copies = "".join(f"COPY {lib} /usr/lib/x86_64-linux-gnu/{lib}\n" for lib in libs)
    (ctx / "Dockerfile").write_text(
        f'FROM {BASE_IMAGE}\n{copies}COPY node /usr/local/bin/node\nCMD ["node"]\n'
    )
    client.images.build(
        path=str(ctx),
        tag=NODE_BASE,
        labels={"dev.tilt-lsp.bench": "node-base"},
        rm=True,
        pull=False,
    )
    shutil.rmtree(ctx, ignore_errors=True)
    return NODE_BASE


# -- tilt-lsp ----------------------------------------------------------------------------


async def bench_tilt_lsp(
    client: Any, root: Path, lang: Lang, runs: int
) -> tuple[dict[str, float], dict[str, float], list[str], bool]:
    """tilt-lsp and the floor, interleaved save by save on the same container (the one
    tilt-lsp deployed), so both see the same machine load: (tilt-lsp stats, floor stats, the
    last live-update log lines, whether the container stayed the same)."""
    port = free_port()
    project = f"tiltlspbench10{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "BASE_IMAGE": lang.base,
        "WEB_PORT": str(port),
        "COMPOSE_PROJECT_NAME": project,
    }
    engine = Engine(str(root / "Tiltfile"), env=env)  # no file watcher: only our saves count
    flt = {"label": [f"com.docker.compose.project={project}"]}
    await engine.start()
    try:
        if not await engine.wait_settled(300):
            raise RuntimeError("tilt-lsp did not settle")
        await asyncio.to_thread(wait_serving, port, "v0", time.perf_counter())
        before = [c["Id"] for c in client.api.containers(filters=flt)]
        await asyncio.sleep(1.0)  # the synclet warms up after the first deploy
        tilt, floor = [], []
        for i in range(runs + 1):  # the first round is a warm-up
            text = f"tilt-lsp-{i}-{uuid.uuid4().hex[:6]}"
            await asyncio.to_thread(edit, root, lang, text)
            t0 = time.perf_counter()
            engine.files_changed([str(root / "src" / lang.file)], origin="bench")
            elapsed = await asyncio.to_thread(wait_serving, port, text, t0)
            if i:
                tilt.append(elapsed)
            await asyncio.sleep(0.3)
            text = f"floor-{i}-{uuid.uuid4().hex[:6]}"
            source = lang.source.replace('"v0"', f'"{text}"').encode()
            elapsed = await asyncio.to_thread(
                put_and_signal, client, before[0], lang, source, port, text
            )
            if i:
                floor.append(elapsed)
            await asyncio.sleep(0.3)
        after = [c["Id"] for c in client.api.containers(filters=flt)]
        log = engine.logs("web", 0)
        assert not any(line.startswith("building") for line in log[-runs * 4 :]), "a save rebuilt"
        problems = engine.problems.all()
        assert not problems, f"problems on a clean app: {problems}"
        lines = [line for line in log if line.startswith("live update:")][-2:]
        return stats(tilt), stats(floor), lines, len(before) == 1 and before == after
    finally:
        await engine.stop()
        lbl.remove_stale_images(client.api, lbl.managed_labels(str(root)), keep=())


def put_and_signal(client: Any, cid: str, lang: Lang, source: bytes, port: int, text: str) -> float:
    """The floor: the file through the archive API and SIGHUP to PID 1 (the restart wrapper
    tilt-lsp put in the image), nothing else."""
    archive = one_file_tar(lang.file, source)
    t0 = time.perf_counter()
    client.api.put_archive(cid, "/app/src", archive)
    client.api.kill(cid, signal="SIGHUP")
    return wait_serving(port, text, t0)


# -- vanilla and floor -------------------------------------------------------------------


def build(client: Any, root: Path, lang: Lang, tag: str) -> None:
    client.images.build(
        path=str(root),
        tag=tag,
        buildargs={"BASE_IMAGE": lang.base},
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
    client: Any,
    root: Path,
    lang: Lang,
    runs: int,
    tag: str,
    update: Callable[[Any, int], Any],
) -> dict[str, float]:
    """Run ``tag``, then time ``runs`` saves, each applied by ``update(container, port)``
    (which returns the container that serves afterwards)."""
    port = free_port()
    samples = []
    container = run(client, tag, port)
    try:
        wait_serving(port, "v0", time.perf_counter())
        for i in range(runs + 1):
            text = f"{tag.split('/')[-1][:7]}-{i}-{uuid.uuid4().hex[:6]}"
            edit(root, lang, text)
            t0 = time.perf_counter()
            container = update(container, port)
            elapsed = wait_serving(port, text, t0)
            if i:
                samples.append(elapsed)
    finally:
        container.remove(force=True)
        edit(root, lang, "v0")
    return stats(samples)


def bench_vanilla(client: Any, root: Path, lang: Lang, runs: int) -> dict[str, float]:
    tag = f"tilt-lsp-bench/vanilla:{uuid.uuid4().hex[:8]}"
    edit(root, lang, "v0")
    build(client, root, lang, tag)

    def rebuild_and_replace(container: Any, port: int) -> Any:
        build(client, root, lang, tag)
        container.remove(force=True)
        return run(client, tag, port)

    try:
        return bench_container(client, root, lang, runs, tag, rebuild_and_replace)
    finally:
        # Each build re-tags: earlier builds are left untagged, with the bench label.
        lbl.remove_stale_images(client.api, BENCH_LABELS, keep=())


def one_file_tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def row(what: str, s: dict[str, float]) -> str:
    return f"| {what} | {s['median']:.0f} ms | {s['min']:.0f}-{s['max']:.0f} ms |"


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--apps", default="python,node", help="python,node (default both)")
    args = parser.parse_args()
    runs = max(args.runs, 1)
    client = docker.from_env(timeout=600)
    langs = [{"python": PYTHON, "node": NODE}[a.strip()] for a in args.apps.split(",")]
    if NODE in langs:
        node_base(client)
    out: list[str] = []
    ratios: list[str] = []
    print(f"load average at start: {load()}", file=sys.stderr)
    for lang in langs:
        for slow in (False, True):
            name = (
                f"{lang.name}, {'slow build (`RUN sleep 3` after `COPY src`)' if slow else 'tiny'}"
            )
            root = make_app(lang, slow)
            try:
                tilt, floor, lines, same = asyncio.run(bench_tilt_lsp(client, root, lang, runs))
                print(
                    f"{name}: tilt-lsp {tilt} floor {floor} same container: {same}",
                    *lines,
                    sep="\n  ",
                    file=sys.stderr,
                )
                vanilla = bench_vanilla(client, root, lang, runs)
                print(f"{name}: vanilla {vanilla} (load {load()})", file=sys.stderr)
            finally:
                shutil.rmtree(root.parent, ignore_errors=True)
            out += [
                row(f"{name}: **tilt-lsp**, save → serving", tilt),
                row(f"{name}: **vanilla**, docker build + replace the container", vanilla),
                row(f"{name}: **floor**, put_archive + SIGHUP through the SDK", floor),
            ]
            ratios.append(
                f"| {name} | {vanilla['median'] / tilt['median']:.1f}x | "
                f"{tilt['median'] / floor['median']:.2f}x | {'yes' if same else 'NO'} |"
            )
    lbl.remove_containers(client.api, BENCH_LABELS)
    print(f"load average at end: {load()}", file=sys.stderr)
    print("| what | median | min-max |\n| --- | --- | --- |")
    print("\n".join(out))
    print(
        "\n| app | vanilla / tilt-lsp | tilt-lsp / floor | same container |\n| --- | --- | --- | --- |"
    )
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
