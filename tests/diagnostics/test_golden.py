"""Golden tests: real tool output in, the problems a user would see out.

Every case is output captured from the real tool (see tests/data/diagnostics/capture.py);
each expected problem was checked against the case's sources by hand.
"""

from __future__ import annotations

import os

import pytest

from .golden import DATA, all_cases, expected, run_case, write_expected


@pytest.mark.parametrize("case", all_cases())
def test_golden(case: str) -> None:
    got = run_case(case)
    if os.environ.get("UPDATE_GOLDEN"):
        write_expected(case, got)
    assert got == expected(case)


def test_every_family_has_cases() -> None:
    families = {case.split("/")[0] for case in all_cases()}
    assert families >= {
        "python", "node", "go", "gcc", "clang", "rust", "java", "tsc", "dockerfile", "ruby",
        "pytest", "unittest", "nodetest", "maven", "gradle", "make", "ld", "noise",
    }


def test_each_test_runner_and_build_tool_family_has_three_shapes() -> None:
    for family in ("pytest", "unittest", "nodetest", "maven", "gradle", "make", "ld"):
        assert len([c for c in all_cases() if c.startswith(f"{family}/")]) >= 3, family


@pytest.mark.parametrize("case", [c for c in all_cases() if c.startswith("noise/")])
def test_real_output_of_runs_that_went_well_yields_nothing(case: str) -> None:
    """Passing test runs, successful builds, request logs with path:line-looking URLs."""
    assert run_case(case) == [] == expected(case)


@pytest.mark.parametrize("case", all_cases())
def test_expected_problems_point_into_the_case_sources(case: str) -> None:
    """The reviewed expectations stay honest: every place is a line of a source file there."""
    case_dir = DATA / case
    for problem in expected(case):
        places = [problem, *problem["related"]]  # type: ignore[list-item]
        for place in places:
            path = case_dir / str(place["path"])
            assert path.is_file() and path.name != "output.txt", place
            lines = path.read_text().splitlines()
            assert 1 <= int(place["line"]) <= len(lines), place  # type: ignore[call-overload]
