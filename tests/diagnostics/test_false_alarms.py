"""Ordinary log lines must stay silent: a false alarm on a source line is worse than nothing.

The workspace holds files with the names the lines mention, so a parser that misread a line
would find a file to put the problem on. Also: a trace whose frames are all library code,
and one whose innermost user file is gone, must not land on a wrong file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import diagnose_lines

from .golden import CAPTURE_ROOT, DATA, output_lines

ORDINARY_LOGS = """\
2026-11-26 10:00:00,123 INFO app: starting on 0.0.0.0:8000
2026-11-26 10:00:01,001 ERROR app: connection to db:5432 failed: timeout after 5s (retrying)
2026-11-26 10:00:01,002 WARNING app: error budget at 80%
File "app.py" changed, reloading
File app.py, line 12 was modified
Watching for file changes with StatReloader
INFO:     10.0.0.1:51234 - "GET /health HTTP/1.1" 200 OK
INFO:     10.0.0.1:51234 - "POST /orders HTTP/1.1" 500 Internal Server Error
ERROR:    Exception in ASGI application (details below are redacted)
The Traceback (most recent call last) section is hidden in production
Traceback logging is disabled; set DEBUG=1
  File "app.py", line 12, in handler
reloading app.py:12 after change
main.go:12 is the entry point
level=error ts=2026-11-26T10:00:02Z caller=main.go:45 msg="dial tcp 10.0.0.5:5432: connect: connection refused"
E1126 10:00:03.000000   12345 main.go:45] failed to sync pod web-7d9f8
2026-11-26T10:00:04.000Z\tERROR\tapp/main.go:45\trequest failed\t{"error": "timeout"}
panic: recovered in handler, returning 500
goroutine leak detector: 3 goroutines running
Error: listen EADDRINUSE: address already in use :::3000
TypeError: handled and reported to Sentry (event 8f2a)
    at the next retry we will give up
error: unknown flag --verbose (see --help)
warning: config key "timeout" is deprecated
warning: unused value
Step 1/3 : preparing the database
The command 'migrate' returned a non-zero code: 0 times today
Dockerfile:12
java.lang.IllegalStateException is thrown when the queue is full
Caused by: a network partition between zones
at com.acme.orders.OrderService.place(OrderService.java:8) is where we log
thread 'main' is busy
{"level":"error","msg":"payment failed","error":"card declined","stack":"none"}
{"level":"info","msg":"done","trace":"abc\\ndef"}
[pod/web-7d9f8/app] GET /orders 200 3ms
web-1  | ready to accept connections on :5432
web-1  | error: password authentication failed for user "app"
npm ERR! code ELIFECYCLE
npm ERR! errno 1
SyntaxError in config.yaml at line 3 (ignored, using defaults)
Exception in thread pool: 0 tasks failed
FAIL is not a word we use
--- FAIL: nothing to see here
ok  \tpackage is fine
not ok 3 - flaky network test # TODO
not ok is what TAP says when a test fails
✖ lint rules (12.3ms) # TODO
[ERROR] Some problems were encountered while building the effective model for app.py:12
[WARNING] app.py:[12,3] looks like a Maven message but names no Java file
com.acme.Foo > bar FAILED
make: *** No rule to make target 'app.py', needed by 'all'.  Stop.
make: *** [build] Error 1
make[1]: Entering directory '/app'
/usr/bin/ld: warning: creating DT_TEXTREL in a PIE
ld.lld: warning: main.go:12 is not an object file
main.go:12: undefined is a word in the release notes
Error response from daemon: No such container: web-7d9f8
failed to solve: rpc error: code = Unknown desc = app.py:12 busy
FAIL: the smoke check (run again later)
ERROR: test_x is not a unittest line
=========================== 3 passed in 0.12s ===========================
"""

WORKSPACE_FILES = {
    "app.py": "print('hi')\n" * 20,
    "main.go": "package main\n" * 50,
    "app/main.go": "package app\n" * 50,
    "index.js": "console.log(1)\n" * 10,
    "src/com/acme/orders/OrderService.java": "class OrderService {}\n" * 10,
    "src/main.rs": "fn main() {}\n" * 10,
    "config.yaml": "a: 1\n" * 5,
    "Dockerfile": "FROM scratch\n" * 20,
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    for rel, text in WORKSPACE_FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_ordinary_log_lines_produce_nothing(workspace: Path) -> None:
    mapper = PathMapper(str(workspace), [("/app", str(workspace))])
    lines = ORDINARY_LOGS.splitlines(keepends=True)
    assert list(diagnose_lines(lines, mapper)) == []


@pytest.mark.parametrize("line", ORDINARY_LOGS.splitlines())
def test_each_ordinary_line_alone_produces_nothing(workspace: Path, line: str) -> None:
    mapper = PathMapper(str(workspace), [("/app", str(workspace))])
    assert list(diagnose_lines([line, line, ""], mapper)) == []


def test_ordinary_lines_around_a_real_trace_change_nothing(workspace: Path) -> None:
    case = "python/traceback_stdlib"
    noise = ORDINARY_LOGS.encode().splitlines(keepends=True)
    lines = noise + output_lines(case) + noise
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    problems = list(diagnose_lines(lines, mapper))
    assert [(Path(p.path).name, p.line) for p in problems] == [("settings.py", 6)]


def test_a_trace_with_only_library_frames_is_dropped(workspace: Path) -> None:
    lines = [
        "Error: listen EADDRINUSE: address already in use :::3000\n",
        "    at Server.setupListenHandle [as _listen2] (node:net:1817:16)\n",
        "    at listenInCluster (node:net:1865:12)\n",
        f"    at Object.<anonymous> ({workspace}/node_modules/express/index.js:3:1)\n",
        "\n",
    ]
    (workspace / "node_modules/express").mkdir(parents=True)
    (workspace / "node_modules/express/index.js").write_text("x\n" * 5)
    assert list(diagnose_lines(lines, PathMapper(str(workspace)))) == []


def test_outside_the_workspace_is_never_the_culprit(tmp_path: Path) -> None:
    """The trace's files exist, but not in the workspace the user opened."""
    case = "python/traceback_chained"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mapper = PathMapper(str(elsewhere), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    assert list(diagnose_lines(output_lines(case), mapper)) == []


def test_missing_innermost_user_file_falls_back_to_the_next_user_frame(tmp_path: Path) -> None:
    case = "python/traceback_stdlib"
    shutil.copytree(DATA / case, tmp_path / "ws")
    (tmp_path / "ws" / "settings.py").unlink()
    mapper = PathMapper(str(tmp_path / "ws"), [(f"{CAPTURE_ROOT}/{case}", str(tmp_path / "ws"))])
    (problem,) = diagnose_lines(output_lines(case), mapper)
    assert (Path(problem.path).name, problem.line) == ("app.py", 8)
    assert [(Path(r.path).name, r.line) for r in problem.related] == [("app.py", 13)]


def test_symlink_escaping_the_workspace_is_not_followed(tmp_path: Path) -> None:
    case = "node/cjs_throw"
    ws = tmp_path / "ws"
    shutil.copytree(DATA / case, ws)
    outside = tmp_path / "outside.js"
    outside.write_text("x\n" * 10)
    (ws / "lib" / "format.js").unlink()
    (ws / "lib" / "format.js").symlink_to(outside)
    mapper = PathMapper(str(ws), [(f"{CAPTURE_ROOT}/{case}", str(ws))])
    (problem,) = diagnose_lines(output_lines(case), mapper)
    assert (Path(problem.path).name, problem.line) == ("app.js", 5)


def test_a_changed_line_keeps_the_problem_but_drops_the_column(tmp_path: Path) -> None:
    """The traceback shows code the file no longer has there: no column is better than a
    wrong one."""
    case = "python/traceback_stdlib"
    ws = tmp_path / "ws"
    shutil.copytree(DATA / case, ws)
    text = (ws / "settings.py").read_text().replace("return json.loads(raw)", "return {}")
    (ws / "settings.py").write_text(text)
    mapper = PathMapper(str(ws), [(f"{CAPTURE_ROOT}/{case}", str(ws))])
    (problem,) = diagnose_lines(output_lines(case), mapper)
    assert (Path(problem.path).name, problem.line, problem.column) == ("settings.py", 6, None)
