"""Property tests: whatever arrives (bytes, huge lines, noise mixed into real output), the
parsers never crash and never put a problem on a file outside the workspace."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilt_lsp.diagnostics.clean import MAX_LINE, clean
from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import ProblemStream, diagnose_lines

from .golden import CAPTURE_ROOT, DATA, all_cases, dockerfile_for, output_lines

CASE = "python/traceback_chained"
ROOT = os.path.realpath(DATA / CASE)
REAL_LINES = [line for case in all_cases() for line in output_lines(case)]
FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def mapper() -> PathMapper:
    return PathMapper(ROOT, [(f"{CAPTURE_ROOT}/{CASE}", ROOT), ("/", ROOT)], workdir="/")


def assert_inside(problems: list[Problem]) -> None:
    for p in problems:
        assert p.path.startswith(ROOT + os.sep) and os.path.isfile(p.path), p
        assert p.line >= 1
        for r in p.related:
            assert r.path.startswith(ROOT + os.sep) and os.path.isfile(r.path), r


noise = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(REAL_LINES),
    st.sampled_from([b"\x1b[31m", b"web-1  | ", b"2026-11-26T07:54:30Z ", b"\r", b"{", b"}"]),
)


@FAST
@given(st.lists(st.binary(max_size=400), max_size=60))
def test_arbitrary_bytes_never_crash(lines: list[bytes]) -> None:
    assert_inside(list(diagnose_lines(lines, mapper())))


@FAST
@given(st.lists(st.lists(noise, min_size=1, max_size=4).map(b"".join), max_size=80))
def test_real_lines_mixed_with_noise_stay_in_the_workspace(lines: list[bytes]) -> None:
    assert_inside(list(diagnose_lines(lines, mapper(), dockerfile_for("dockerfile/legacy"))))


@FAST
@given(st.data())
def test_noise_inserted_into_a_real_trace_never_misplaces_it(data: st.DataObject) -> None:
    lines = list(output_lines(CASE))
    for _ in range(data.draw(st.integers(0, 5))):
        at = data.draw(st.integers(0, len(lines)))
        lines.insert(at, data.draw(noise))
    assert_inside(list(diagnose_lines(lines, mapper())))


@settings(max_examples=20, deadline=None)
@given(st.integers(MAX_LINE - 2, 3 * MAX_LINE), st.sampled_from([b"x", b"\xff", "é".encode()]))
def test_huge_lines_are_capped(size: int, unit: bytes) -> None:
    line = unit * size
    _channel, text = clean(line)
    assert len(text) <= MAX_LINE
    stream = ProblemStream(mapper())
    assert stream.feed(line) == [] and stream.close() == []
