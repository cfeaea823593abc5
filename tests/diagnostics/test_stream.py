"""The stream's own promises: parsers go back to sleep after a problem (that is what keeps
ordinary lines cheap), channels are bounded, and the engine's incremental API works."""

from __future__ import annotations

from pathlib import Path

import pytest

from tilt_lsp.diagnostics.clean import clean
from tilt_lsp.diagnostics.parsers import all_parsers
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import MAX_CHANNELS, ParserSet, ProblemStream, diagnose_lines

from .golden import DATA, all_cases, dockerfile_for, output_lines

ORDINARY = [
    "2026-11-26 10:00:00,123 INFO orders: processed order 17 in 12ms",
    'INFO:     10.0.0.1:5123 - "GET /health HTTP/1.1" 200 OK',
    '{"level":"info","msg":"request finished","path":"/items/3"}',
    'level=error caller=main.go:45 msg="dial tcp 10.0.0.5:5432: connection refused"',
]


@pytest.mark.parametrize("case", all_cases())
def test_every_parser_goes_idle_after_real_output(case: str) -> None:
    parsers = all_parsers(dockerfile_for(case))
    channel = ParserSet(parsers)
    for line in output_lines(case):
        channel.feed(clean(line)[1])
    for line in ORDINARY * 3:
        channel.feed(line)
    assert [type(p).__name__ for p in parsers if p.active] == []


def test_channels_are_bounded() -> None:
    stream = ProblemStream(PathMapper(str(DATA)))
    for i in range(MAX_CHANNELS * 3):
        stream.feed(f"svc{i}-1  | hello".encode())
    assert len(stream._channels) <= MAX_CHANNELS


def test_flush_reports_a_pending_problem_without_closing() -> None:
    case = "node/async_frames"  # a logged error: complete only when the next line arrives
    mapper = PathMapper(str(DATA / case), [(f"/tmp/tilt-lsp-capture/{case}", str(DATA / case))])
    stream = ProblemStream(mapper)
    fed = [p for line in output_lines(case) for p in stream.feed(line)]
    assert fed == []
    (problem,) = stream.flush()
    assert problem.message == "RangeError: invalid user id -1"
    assert stream.feed(b"next line\n") == [] and stream.close() == []


QUIET_CASES = [c for c in all_cases()
               if c.startswith(("dockerfile/", "python/")) or c in ("go/test_fail", "go/panic")]


@pytest.mark.parametrize("case", QUIET_CASES)
def test_quiet_periods_between_any_two_lines_change_nothing(case: str) -> None:
    """The engine flushes after a quiet period: a long RUN step or a slow test must survive."""
    mapper = PathMapper(str(DATA / case), [(f"/tmp/tilt-lsp-capture/{case}", str(DATA / case))])
    quiet = ProblemStream(mapper, dockerfile_for(case))
    got = []
    for line in output_lines(case):
        got += quiet.feed(line)
        got += quiet.flush()
    got += quiet.close()
    plain = list(diagnose_lines(output_lines(case), mapper, dockerfile_for(case)))
    assert got == plain and got


def test_many_buildkit_steps_do_not_evict_the_build_itself() -> None:
    case = "dockerfile/buildkit"
    lines = output_lines(case)
    at = next(i for i, line in enumerate(lines) if line.startswith(b"#9 "))
    steps = [b"#%d 0.1 compiling part %d\n" % (n, n) for n in range(100, 100 + 3 * MAX_CHANNELS)]
    mixed = lines[:at] + steps + lines[at:]
    problems = list(diagnose_lines(mixed, PathMapper(str(DATA / case)), dockerfile_for(case)))
    assert [(p.line, p.message) for p in problems] == [
        (9, "RUN failed with exit code 3: config.yml is missing")
    ]


def test_an_evicted_channel_reports_what_it_held() -> None:
    case = "node/async_frames"  # complete only when a next line comes: still pending
    mapper = PathMapper(str(DATA / case), [(f"/tmp/tilt-lsp-capture/{case}", str(DATA / case))])
    stream = ProblemStream(mapper)
    got = [p for line in output_lines(case) for p in stream.feed(b"api-1  | " + line)]
    for i in range(MAX_CHANNELS + 1):  # every other channel is busy too: api-1 is the oldest
        got += stream.feed(f"svc{i}-1  | Error: boom {i}".encode())
    assert [p.message for p in got] == ["RangeError: invalid user id -1"]


def test_a_repeated_crash_is_reported_once_until_forgotten() -> None:
    case = "python/traceback_stdlib"
    mapper = PathMapper(str(DATA / case), [(f"/tmp/tilt-lsp-capture/{case}", str(DATA / case))])
    stream = ProblemStream(mapper)
    first = [p for line in output_lines(case) for p in stream.feed(line)]
    again = [p for line in output_lines(case) for p in stream.feed(line)]
    stream.forget()
    after_forget = [p for line in output_lines(case) for p in stream.feed(line)]
    assert (len(first), len(again), after_forget) == (1, 0, first)


def test_an_exception_name_not_ending_in_error_is_reported_when_the_stream_goes_quiet() -> None:
    """``Boom: …`` might be other output inside the traceback until the next line shows;
    on a live stream the quiet period decides, not the end of the stream."""
    case = "python/custom_exception"
    mapper = PathMapper(str(DATA / case), [(f"/tmp/tilt-lsp-capture/{case}", str(DATA / case))])
    stream = ProblemStream(mapper)
    lines = output_lines(case)
    upto = next(i for i, line in enumerate(lines) if line.startswith(b"Boom:"))
    assert [p for line in lines[: upto + 1] for p in stream.feed(line)] == []
    (problem,) = stream.flush()
    assert (Path(problem.path).name, problem.line) == ("app.py", 16)
    assert problem.message == "Boom: amount 500 is over the limit"
    assert [p for line in lines[upto + 1:] for p in stream.feed(line)] == [] == stream.close()
