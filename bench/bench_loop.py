"""Benchmarks of the local loop (issue: language server core).

1. The didSave handler's cost: what the server does on the loop for one saved file
   (stat, ignore rules, mapping to resources, queueing), with 50 resources.
2. Save → crash diagnostic: the real ``tilt-lsp serve`` over stdio, a real LSP client; a save
   that makes the example service crash, timed until the diagnostic arrives on the line.
   Vanilla, in the same run: starting the same service by hand until its traceback is printed
   (what a developer without tilt-lsp waits for before reading the terminal).

Medians of repeated runs. Usage: python bench/bench_loop.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tilt_lsp.engine.engine import Engine

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello-local"
BROKEN = ('return " ".join(words) + "!"', 'return " ".join(words) + 1')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-")) / "ws"
    shutil.copytree(EXAMPLE, root)
    tiltfile = root / "Tiltfile"
    tiltfile.write_text(tiltfile.read_text().replace("'8765'", f"'{free_port()}'"))
    return root


async def bench_handler(runs: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-handler-"))
    lines = []
    for i in range(50):
        (root / f"svc{i}").mkdir()
        (root / f"svc{i}" / "main.py").write_text("x = 1\n")
        lines.append(
            f"local_resource('svc{i}', cmd='true', deps=['svc{i}'], trigger_mode=TRIGGER_MODE_MANUAL, auto_init=False)"
        )
    (root / "Tiltfile").write_text("\n".join(lines) + "\n")
    engine = Engine(str(root / "Tiltfile"))
    await engine.start()
    target = root / "svc25" / "main.py"
    samples = []
    for i in range(runs):
        target.write_text(f"x = {i + 2}\n")
        t0 = time.perf_counter_ns()
        engine.files_changed([str(target)], "save")
        samples.append((time.perf_counter_ns() - t0) / 1000)
    await engine.stop()
    shutil.rmtree(root, ignore_errors=True)
    return {
        "median_us": statistics.median(samples),
        "p90_us": sorted(samples)[int(len(samples) * 0.9)],
    }


def vanilla_crash(root: Path, runs: int) -> float:
    greeting = root / "greeting.py"
    good = greeting.read_text()
    greeting.write_text(good.replace(*BROKEN))
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "server.py"],
            cwd=root,
            capture_output=True,
            text=True,
            env={**os.environ, "PORT": str(free_port())},
        )
        assert "TypeError" in proc.stderr
        samples.append(time.perf_counter() - t0)
    greeting.write_text(good)
    return statistics.median(samples) * 1000


async def lsp_crash(root: Path, runs: int) -> list[float]:
    client = LanguageClient("bench", "1")
    diagnostics: dict[str, list[types.Diagnostic]] = {}
    changed = asyncio.Event()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        diagnostics[params.uri] = list(params.diagnostics)
        changed.set()

    @client.feature("tilt/status")
    def on_status(params: object) -> None:
        changed.set()

    await client.start_io(sys.executable, "-m", "tilt_lsp", "serve")
    uri = root.as_uri()
    await client.initialize_async(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=uri)
    )
    client.initialized(types.InitializedParams())

    async def wait(cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while not cond():
            changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def greeter_ready() -> bool:
        result = await client.protocol.send_request_async("tilt/resources", {})
        return any(r.name == "greeter" and r.runtimeStatus == "ready" for r in result.resources)

    for _ in range(300):
        if await greeter_ready():
            break
        await asyncio.sleep(0.1)
    greeting = root / "greeting.py"
    g_uri = greeting.as_uri()
    good = greeting.read_text()
    samples = []

    def save(text: str) -> None:
        greeting.write_text(text)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(g_uri))
        )

    for _ in range(runs):
        t0 = time.perf_counter()
        save(good.replace(*BROKEN))
        await wait(
            lambda: any(
                "TypeError" in d.message and d.range.start.line == 5
                for d in diagnostics.get(g_uri, [])
            )
        )
        samples.append((time.perf_counter() - t0) * 1000)
        save(good)
        await wait(lambda: not diagnostics.get(g_uri))
        for _ in range(300):
            if await greeter_ready():
                break
            await asyncio.sleep(0.05)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return samples


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    handler = await bench_handler(max(args.runs, 200))
    root = workspace()
    ours = await lsp_crash(root, args.runs)
    vanilla = vanilla_crash(root, args.runs)
    med = statistics.median(ours)
    print(
        f"didSave handler (engine.files_changed, 50 resources): median {handler['median_us']:.0f} µs, p90 {handler['p90_us']:.0f} µs"
    )
    print(
        f"save -> crash diagnostic on the line (tilt-lsp serve, {args.runs} runs): median {med:.0f} ms (min {min(ours):.0f}, max {max(ours):.0f})"
    )
    print(f"vanilla: start the service by hand until its traceback prints: median {vanilla:.0f} ms")
    print(f"ratio tilt-lsp / vanilla: {med / vanilla:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
