"""Stress benchmarks of the language server (issue: never orphan, never freeze).

1. Flood: a serve_cmd prints 200 MB. A client sends ``tilt/resources`` every 20 ms while the
   server reads, parses and batches the flood (tilt/log on), and records each round trip.
   Baseline in the same run: a bare pygls server answering the same request while the same
   flood runs on the machine without pause (piped to ``cat``), for as many requests.
2. Burst and size: a 10,000-file workspace with 20 resources, watched. Time to load and
   settle, then a checkout-like burst (1,000 files rewritten over 3 s in two resources'
   directories): how many updates it caused and request round trips meanwhile.
3. The server's RSS (peak, VmHWM) in each, and the Tiltfile worker's.
4. One Tiltfile evaluation in-process, through the reused worker and through a fresh one.

Usage: python bench/bench_stress.py [--flood-mb 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FLOOD = """
import sys, time
line = ("flood " + "x" * 94 + "\\n").encode()
chunk = line * 1000
out = sys.stdout.buffer
while True:
    for _ in range({chunks}):
        out.write(chunk)
    if "--forever" not in sys.argv:
        break
out.write(b"FLOOD DONE\\n")
out.flush()
time.sleep(600)
"""

BARE = """
from pygls.lsp.server import LanguageServer
ls = LanguageServer("bare", "1")

@ls.feature("tilt/resources")
def resources(ls, params):
    return {"resources": []}

ls.start_io()
"""


class Client:
    """A JSON-RPC client over a subprocess's pipes (reads everything, as an editor does)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.notifications = 0
        self.log_lines = 0
        self.log_dropped = 0
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, *argv: str, cwd: str | None = None) -> Client:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=cwd,
            limit=2**24,
        )
        return cls(proc)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any = None) -> Any:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self.send({"id": msg_id, "method": method, "params": params})
        return await asyncio.wait_for(future, 60)

    async def initialize(self, root: Path, options: dict[str, Any]) -> None:
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": options,
            },
        )
        self.send({"method": "initialized", "params": {}})

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown"), 20)
            self.send({"method": "exit"})
            await asyncio.wait_for(self.proc.wait(), 30)
        except (TimeoutError, ConnectionError):
            self.proc.kill()
            await self.proc.wait()
        self._task.cancel()

    async def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = await out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line == b"\r\n":
                    break
            message = json.loads(await out.readexactly(length))
            if "id" in message and "method" not in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message.get("result"))
            elif "id" in message:
                self.send({"id": message["id"], "result": None})
            else:
                self.notifications += 1
                params = message.get("params") or {}
                if message.get("method") == "tilt/log":
                    self.log_lines += len(params.get("lines", []))
                    self.log_dropped += params.get("dropped", 0)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry))
    return out


def worker_rss(server: int) -> float:
    for pid in children(server):
        try:
            if b"tilt_lsp.tiltfile.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return rss_mb(pid)
        except OSError:
            pass
    return 0.0


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "max_ms": round(ms[-1], 1),
    }


async def round_trips(client: Client, until: Any, limit: int | None = None) -> list[float]:
    """``tilt/resources`` every 20 ms until ``until()`` (checked every 10th) or ``limit``."""
    samples: list[float] = []
    for i in itertools.count():
        if limit is not None and i >= limit:
            break
        t0 = time.monotonic()
        result = await client.request("tilt/resources", {})
        samples.append(time.monotonic() - t0)
        if limit is None and i % 10 == 0 and await until(result):
            break
        await asyncio.sleep(0.02)
    return samples


async def bench_flood(flood_mb: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-stress-"))
    chunks = flood_mb * 1024 * 1024 // (100 * 1000)
    (root / "flood.py").write_text(FLOOD.format(chunks=chunks))
    (root / "Tiltfile").write_text("local_resource('flood', serve_cmd='python3 flood.py')\n")

    server = await Client.start(sys.executable, "-m", "tilt_lsp", "serve")
    await server.initialize(root, {"watch": False, "logNotifications": True})
    t0 = time.monotonic()
    peak = 0.0

    async def done(result: Any) -> bool:
        nonlocal peak
        peak = max(peak, rss_mb(server.proc.pid))
        tails = [r.get("logTail", []) for r in (result or {}).get("resources", [])]
        return any("FLOOD DONE" in line for tail in tails for line in tail)

    samples = await round_trips(server, done)
    flood_s = time.monotonic() - t0
    hwm = rss_mb(server.proc.pid, "VmHWM")
    worker = worker_rss(server.proc.pid)
    notes, sent, dropped = server.notifications, server.log_lines, server.log_dropped
    await server.close()

    # The baseline: a bare pygls server, the same flood on the machine, as many requests.
    flood = await asyncio.create_subprocess_shell(
        f"{sys.executable} flood.py --forever | cat > /dev/null", cwd=root, start_new_session=True
    )
    bare = await Client.start(sys.executable, "-c", BARE)
    await bare.initialize(root, {})
    base = await round_trips(bare, None, limit=len(samples))
    await bare.close()
    os.killpg(flood.pid, 9)
    await flood.wait()
    shutil.rmtree(root, ignore_errors=True)
    ours, theirs = percentiles(samples), percentiles(base)
    return {
        "flood_mb": flood_mb,
        "flood_seconds": round(flood_s, 1),
        "notifications": notes,
        "log_lines_sent": sent,
        "log_lines_dropped": dropped,
        "tilt_lsp": ours,
        "bare_pygls": theirs,
        "p99_above_bare_ms": round(ours["p99_ms"] - theirs["p99_ms"], 1),
        "server_rss_peak_mb": round(max(peak, hwm), 1),
        "worker_rss_mb": round(worker, 1),
    }


async def bench_burst() -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="tilt-lsp-bench-burst-"))
    lines = []
    for r in range(20):
        d = root / f"svc{r:02}"
        for sub in range(5):
            (d / f"pkg{sub}").mkdir(parents=True)
            for f in range(100):
                (d / f"pkg{sub}" / f"mod{f:03}.py").write_text(f"X = {f}\n")
        lines.append(
            f"local_resource('svc{r:02}', cmd='ls -R svc{r:02} | wc -l', deps=['svc{r:02}'])"
        )
    (root / "Tiltfile").write_text("\n".join(lines) + "\n")

    server = await Client.start(sys.executable, "-m", "tilt_lsp", "serve")
    t0 = time.monotonic()
    await server.initialize(root, {"watch": True})

    async def settled() -> dict[str, Any]:
        while True:
            res = await server.request("tilt/resources", {})
            rs = res["resources"]
            if len(rs) == 20 and all(r["buildStatus"] == "ok" for r in rs):
                return {r["name"]: r for r in rs}
            await asyncio.sleep(0.05)

    before = await settled()
    load_s = time.monotonic() - t0
    await asyncio.sleep(1.0)

    def checkout() -> None:
        start = time.monotonic()
        paths = [p for r in ("svc03", "svc11") for p in sorted((root / r).rglob("*.py"))]
        for i, path in enumerate(paths[:1000]):
            path.write_text(f"X = 'changed {i}'\n")
            time.sleep(max(0.0, start + 3.0 * (i + 1) / 1000 - time.monotonic()))

    burst = asyncio.get_running_loop().run_in_executor(None, checkout)
    samples: list[float] = []
    while not burst.done():
        t = time.monotonic()
        await server.request("tilt/resources", {})
        samples.append(time.monotonic() - t)
        await asyncio.sleep(0.02)
    await asyncio.sleep(12)  # past the watcher's longest wait
    after = await settled()
    updates = {
        n: after[n]["updateCount"] - before[n]["updateCount"]
        for n in after
        if after[n]["updateCount"] != before[n]["updateCount"]
    }
    hwm = rss_mb(server.proc.pid, "VmHWM")
    worker = worker_rss(server.proc.pid)
    await server.close()
    shutil.rmtree(root, ignore_errors=True)
    return {
        "files": 10000,
        "resources": 20,
        "load_and_settle_s": round(load_s, 2),
        "burst": "1,000 files over 3 s in svc03 and svc11",
        "updates_caused": updates,
        "requests_during_burst": percentiles(samples),
        "server_rss_peak_mb": round(hwm, 1),
        "worker_rss_mb": round(worker, 1),
    }


async def bench_worker(runs: int = 9) -> dict[str, Any]:
    """One Tiltfile evaluation (examples/multi-service): in-process, through the reused
    worker, and through a fresh worker process (interpreter start-up and imports included)."""
    from tilt_lsp.tiltfile.loader import load_tiltfile
    from tilt_lsp.tiltfile.worker import TiltfileWorker

    tiltfile = str(Path(__file__).resolve().parents[1] / "examples" / "multi-service" / "Tiltfile")
    env = dict(os.environ)
    inproc, reused, fresh = [], [], []
    worker = TiltfileWorker()
    await worker.load(tiltfile, env)  # started and warm
    for _ in range(runs):
        t0 = time.monotonic()
        load_tiltfile(tiltfile, env)
        inproc.append(time.monotonic() - t0)
        t0 = time.monotonic()
        await worker.load(tiltfile, env)
        reused.append(time.monotonic() - t0)
        one = TiltfileWorker()
        t0 = time.monotonic()
        await one.load(tiltfile, env)
        fresh.append(time.monotonic() - t0)
        await one.close()
    await worker.close()
    return {
        name: round(statistics.median(v) * 1000, 1)
        for name, v in (
            ("in_process_ms", inproc),
            ("reused_worker_ms", reused),
            ("fresh_worker_ms", fresh),
        )
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flood-mb", type=int, default=200)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    results = {
        "flood": await bench_flood(args.flood_mb),
        "burst": await bench_burst(),
        "tiltfile_evaluation": await bench_worker(),
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
