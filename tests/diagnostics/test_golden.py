"""Golden tests: real tool output in, the problems a user would see out.

Every case is output captured from the real tool (see tests/data/diagnostics/capture.py);
each expected problem was checked against the case's sources by hand.
"""

from __future__ import annotations

import os

import pytest

from .golden import all_cases, expected, run_case, write_expected


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
    }
