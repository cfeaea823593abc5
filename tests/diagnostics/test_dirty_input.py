"""Real tool output made dirty the way it reaches us, which must change nothing a user sees.

Each transform is applied to every captured case: ANSI colour, ``kubectl logs --timestamps``,
``docker logs -t``, compose v1/v2 and Tilt prefixes, ``kubectl logs --prefix``, CRLF, invalid
UTF-8 and huge lines between the lines, the whole output escaped into JSON log records, and
two services' output interleaved line by line.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tilt_lsp.commands.diagnose import problem_json
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import ProblemStream, diagnose_lines

from .golden import (
    CAPTURE_ROOT,
    DATA,
    all_cases,
    dockerfile_for,
    expected,
    output_lines,
    relativize,
)

Transform = Callable[[list[bytes]], Iterable[str | bytes]]


def _each(fn: Callable[[bytes], bytes]) -> Transform:
    return lambda lines: [fn(line) for line in lines]


def _ansi(line: bytes) -> bytes:
    body = line.rstrip(b"\n")
    return b"\x1b[31m\x1b[1m" + body + b"\x1b[0m\x1b[K" + line[len(body):]


def _between(extra: bytes) -> Transform:
    def transform(lines: list[bytes]) -> list[bytes]:
        # Before the first line and after the last: inside a trace it would (rightly) end it.
        return [extra, *lines, extra]
    return transform


TRANSFORMS: dict[str, Transform] = {
    "ansi": _each(_ansi),
    "kubectl_timestamps": _each(lambda ln: b"2026-11-26T07:54:30.946123456Z " + ln),
    "docker_timestamps": _each(lambda ln: b"2026-11-26T07:54:30.946123456+01:00 " + ln),
    "compose_v2": _each(lambda ln: b"web-1  | " + ln),
    "compose_v1_coloured": _each(lambda ln: b"\x1b[36mweb_1     |\x1b[0m " + ln),
    "compose_with_timestamps": _each(lambda ln: b"api-1  | 2026-11-26T07:54:30.9Z " + ln),
    "tilt_prefix": _each(lambda ln: "web │ ".encode() + ln),
    "kubectl_prefix": _each(lambda ln: b"[pod/web-7d9f8/app] " + ln),
    "crlf": _each(lambda ln: ln.rstrip(b"\n") + b"\r\n"),
    "invalid_utf8": _between(b"\xff\xfe garbage \xc3\x28 bytes\n"),
    "huge_line": _between(b"x" * 1_000_000 + b" error Traceback File \"a.py\", line 1\n"),
    "str_lines": lambda lines: [line.decode("utf-8", "replace") for line in lines],
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("case", all_cases())
def test_dirty_output_gives_the_same_problems(case: str, transform: str) -> None:
    lines = TRANSFORMS[transform](output_lines(case))
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    problems = diagnose_lines(lines, mapper, dockerfile_for(case))
    got = [relativize(problem_json(p), DATA / case) for p in problems]
    assert got == expected(case)


TRACE_CASES = [
    "python/traceback_stdlib", "python/traceback_chained", "python/logging_exception",
    "node/cjs_throw", "node/async_frames", "go/panic", "java/exception", "rust/panic_backtrace",
    "ruby/exception", "node/error_cause", "go/test_panic", "python/exception_group",
    "java/logged",
]


@pytest.mark.parametrize("key", ["stack", "err.stack", "exc_info", "traceback",
                                 "error.stack_trace", "stacktrace"])
@pytest.mark.parametrize("case", TRACE_CASES)
def test_trace_escaped_in_a_json_log_record(case: str, key: str) -> None:
    text = b"".join(output_lines(case)).decode()
    value: object = text
    for part in reversed(key.split(".")):
        value = {part: value}
    assert isinstance(value, dict)
    record = {"level": "error", "time": "2026-11-26T07:54:30Z", "msg": "request failed", **value}
    lines = [
        json.dumps({"level": "info", "msg": "request received", "path": "/orders"}),
        json.dumps(record),
        json.dumps({"level": "info", "msg": "error handler done", "stack": "none"}),
    ]
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    got = [relativize(problem_json(p), DATA / case) for p in diagnose_lines(lines, mapper)]
    assert got == expected(case)


INTERLEAVED = [
    ("python/traceback_chained", "node/cjs_throw"),
    ("java/exception", "go/goroutine_panic"),
    ("python/logging_exception", "rust/panic_backtrace"),
    ("python/syntax_import", "gcc/include"),
    ("gcc/template", "tsc/pretty"),
]


@pytest.mark.parametrize("prefix_style", ["compose", "kubectl"])
@pytest.mark.parametrize(("first", "second"), INTERLEAVED)
def test_interleaved_services_are_demultiplexed(
    first: str, second: str, prefix_style: str, tmp_path: Path
) -> None:
    def prefixed(name: str, line: bytes) -> bytes:
        prefix = f"{name}-1  | " if prefix_style == "compose" else f"[pod/{name}/app] "
        return prefix.encode() + line

    a, b = output_lines(first), output_lines(second)
    mixed: list[bytes] = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            mixed.append(prefixed("first", a[i]))
        if i < len(b):
            mixed.append(prefixed("second", b[i]))
    # One workspace holding both services' sources; relative and bare paths (tsc's src/…,
    # gcc's main.cpp, Java's OrderService.java) resolve through its index.
    for case in (first, second):
        shutil.copytree(DATA / case, tmp_path / case)
    mapper = PathMapper(str(tmp_path), [
        (f"{CAPTURE_ROOT}/{case}", str(tmp_path / case)) for case in (first, second)
    ])
    got = [relativize(problem_json(p), tmp_path) for p in diagnose_lines(mixed, mapper)]
    want = [_under(case, p) for case in (first, second) for p in expected(case)]
    key = lambda p: (p["path"], p["line"], p["message"])  # noqa: E731
    assert sorted(got, key=key) == sorted(want, key=key)


def _under(case: str, problem: dict[str, object]) -> dict[str, object]:
    related = problem["related"]
    assert isinstance(related, list)
    return {
        **problem,
        "path": os.path.join(case, str(problem["path"])),
        "related": [{**r, "path": os.path.join(case, r["path"])} for r in related],
    }


def test_live_stream_reports_a_traceback_when_its_last_line_arrives() -> None:
    case = "python/traceback_stdlib"
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    stream = ProblemStream(mapper)
    lines = output_lines(case)
    for line in lines[:-1]:
        assert stream.feed(line) == []
    (problem,) = stream.feed(lines[-1])
    assert problem.line == 6 and problem.path.endswith("settings.py")
    assert stream.close() == []


def test_buildkit_step_output_is_read_by_the_language_parsers() -> None:
    """A compiler inside ``RUN`` prints through BuildKit's ``#9 0.347 `` prefix."""
    case = "gcc/template"
    lines = [b"#9 [5/5] RUN g++ -c main.cpp\n"]
    lines += [b"#9 1.%03d " % i + line for i, line in enumerate(output_lines(case))]
    got = [relativize(problem_json(p), DATA / case)
           for p in diagnose_lines(lines, PathMapper(str(DATA / case)))]
    assert got == expected(case)


@pytest.mark.parametrize("case", TRACE_CASES)
def test_docker_json_file_log_records_are_unwrapped(case: str) -> None:
    """``/var/lib/docker/containers/*/*-json.log``: one JSON record per output line."""
    lines = [
        json.dumps({"log": line.decode(), "stream": "stderr", "time": "2026-11-26T07:54:30Z"})
        for line in output_lines(case)
    ]
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    got = [relativize(problem_json(p), DATA / case) for p in diagnose_lines(lines, mapper)]
    assert got == expected(case)


@pytest.mark.parametrize("case", ["python/traceback_chained", "java/exception"])
def test_trace_inside_a_multiline_json_message(case: str) -> None:
    text = b"".join(output_lines(case)).decode()
    line = json.dumps({"@timestamp": "2026-11-26T07:54:30Z", "level": "ERROR",
                       "message": "unhandled error\n" + text})
    mapper = PathMapper(str(DATA / case), [(f"{CAPTURE_ROOT}/{case}", str(DATA / case))])
    got = [relativize(problem_json(p), DATA / case) for p in diagnose_lines([line], mapper)]
    assert got == expected(case)
