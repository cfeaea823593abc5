"""Throughput of the problem parsers on a large noisy application log.

Generates mixed application logs (plain, access-log, logfmt, JSON and compose-prefixed
lines, with ANSI colour on some) of about 10 MB and 100 MB in a temporary directory, with a
real captured stack trace or build error every few thousand lines, then runs the whole
pipeline (clean, demultiplex, JSON expansion, every parser, path mapping) over the bytes.
Reports MB/s and the cost per line, as the median of repeated runs, and checks that the
embedded traces were all found (a fast parser that misses them would be worthless).

    .venv/bin/python bench/bench_parsers.py [--sizes 10,100] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tilt_lsp.diagnostics.paths import PathMapper  # noqa: E402
from tilt_lsp.diagnostics.stream import diagnose_lines  # noqa: E402

DATA = REPO / "tests" / "data" / "diagnostics"
CAPTURE_ROOT = "/tmp/tilt-lsp-capture"
TRACES = ["python/traceback_stdlib", "node/cjs_throw", "go/panic", "java/exception",
          "python/logging_exception", "node/async_frames", "go/goroutine_panic"]
EVERY = 5000  # ordinary lines between two embedded traces (--every changes it)


def ordinary_line(rng: random.Random, i: int) -> str:
    kind = rng.randrange(8)
    ts = f"2026-11-26 10:{i // 60000 % 60:02d}:{i // 1000 % 60:02d},{i % 1000:03d}"
    if kind == 0:
        return f"{ts} INFO orders: processed order {i} in {rng.randrange(900)}ms\n"
    if kind == 1:
        return (f'INFO:     10.0.{rng.randrange(255)}.{rng.randrange(255)}:{rng.randrange(65535)}'
                f' - "GET /api/orders/{i} HTTP/1.1" {rng.choice([200, 200, 404, 500])} OK\n')
    if kind == 2:
        return json.dumps({"level": rng.choice(["info", "warn", "error"]), "ts": ts,
                           "msg": "request finished", "path": f"/items/{i}",
                           "error": None if rng.random() < 0.9 else "upstream timeout"}) + "\n"
    if kind == 3:
        return (f'level=error ts={ts} caller=main.go:45 msg="dial tcp 10.0.0.5:5432: '
                f'connect: connection refused" attempt={i % 7}\n')
    if kind == 4:
        return f"web-1  | \x1b[32m{ts}\x1b[0m worker heartbeat seq={i} queue=default depth=3\n"
    if kind == 5:
        return f"{ts} WARNING cache: error budget {rng.randrange(100)}% File sync pending\n"
    if kind == 6:
        return f"2026-11-26T10:00:00.{i % 1000000:06d}Z GET /health 200 {rng.random():.4f}s\n"
    return f"{ts} DEBUG sql: SELECT id, name FROM users WHERE id = {i} LIMIT 1 -- 0.4ms\n"


def generate(path: Path, megabytes: int, seed: int = 1, every: int = EVERY) -> int:
    """Write about ``megabytes`` MB of log; return how many traces were embedded."""
    rng = random.Random(seed)
    traces = [(DATA / case / "output.txt").read_text() for case in TRACES]
    target = megabytes * 1_000_000
    written = embedded = i = 0
    with path.open("w", encoding="utf-8") as f:
        while written < target:
            chunk = "".join(ordinary_line(rng, i + k) for k in range(every))
            i += every
            trace = traces[embedded % len(traces)]
            embedded += 1
            f.write(chunk)
            f.write(trace)
            written += len(chunk.encode()) + len(trace.encode())
    return embedded


def expected_per_trace() -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in TRACES:
        counts[case] = len(json.loads((DATA / case / "expected.json").read_text()))
    return counts


def mapper() -> PathMapper:
    return PathMapper(str(DATA), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case)) for case in TRACES])


def run_once(path: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, lines, problems found) of one pass over the log."""
    with path.open("rb") as f:
        lines = sum(1 for _ in f)
    m = mapper()
    found = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with path.open("rb") as f:  # the file is in the page cache: this measures the parsers
        for _problem in diagnose_lines(f, m):
            found += 1
    return time.perf_counter() - start, time.process_time() - cpu_start, lines, found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100", help="sizes in MB, comma-separated")
    ap.add_argument("--runs", type=int, default=5, help="runs per size (median reported)")
    ap.add_argument("--every", type=int, default=EVERY,
                    help="ordinary lines between embedded traces (50 = a very noisy app)")
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {cpu_model()}, one trace per {args.every} lines")
    unique = sum(expected_per_trace().values())
    with tempfile.TemporaryDirectory(prefix="tilt-lsp-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"app-{size}mb.log"
            embedded = generate(path, size, every=args.every)
            nbytes = path.stat().st_size
            times, cpu_times = [], []
            for _ in range(args.runs):
                seconds, cpu_seconds, lines, found = run_once(path)
                times.append(seconds)
                cpu_times.append(cpu_seconds)
            med, cpu = statistics.median(times), statistics.median(cpu_times)
            # Every trace repeats: identical problems are reported once per stream.
            # CPU time is reported too: on a shared machine, wall time measures the neighbours.
            print(f"{nbytes / 1e6:7.1f} MB  {lines:>9} lines  {embedded:>4} traces embedded  "
                  f"{found} distinct problems (expected {unique})  "
                  f"median {med:6.2f} s  {nbytes / 1e6 / med:6.1f} MB/s  "
                  f"{med / lines * 1e6:5.2f} us/line  "
                  f"cpu {cpu:6.2f} s  {nbytes / 1e6 / cpu:6.1f} MB/cpu-s  runs={args.runs}  "
                  f"load {os.getloadavg()[0]:.1f}")
            if found != unique:
                print("  MISMATCH: not every embedded problem was found", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
