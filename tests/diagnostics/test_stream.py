"""The stream's own promises: parsers go back to sleep after a problem (that is what keeps
ordinary lines cheap), channels are bounded, and the engine's incremental API works."""

from __future__ import annotations

import pytest

from tilt_lsp.diagnostics.clean import clean
from tilt_lsp.diagnostics.parsers import all_parsers
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import MAX_CHANNELS, ParserSet, ProblemStream

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
