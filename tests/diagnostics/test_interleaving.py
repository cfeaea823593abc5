"""A trace interrupted by the same stream's other output still lands on its line.

``docker compose up`` prints a container's stdout and stderr under one prefix, so a request
log line can fall between two frames of a traceback. Up to two such lines are skipped (Python,
Node, Java, Go); more end the trace, which then claims nothing rather than something wrong.
"""

from __future__ import annotations

import pytest

from .golden import expected, run_case

FOREIGN = [
    b'INFO:     10.0.0.7:40412 - "GET /health HTTP/1.1" 200 OK\n',
    b"worker heartbeat seq=12\n",
    b"Done\n",
]


def _interrupt(marker: bytes, count: int, prefix: bytes = b"web-1  | "):
    def transform(lines: list[bytes]) -> list[bytes]:
        at = next(i for i, line in enumerate(lines) if marker in line)
        out = [*lines[: at + 1], *FOREIGN[:count], *lines[at + 1 :]]
        return [prefix + line for line in out]

    return transform


# (case, a line inside the trace after which the foreign lines go)
CASES = [
    ("python/traceback_stdlib", b"main()"),
    ("python/traceback_stdlib", b'settings.py", line 6'),
    ("node/cjs_throw", b"    at "),
    ("java/exception", b"\tat com.acme.orders.OrderService.place"),
    ("java/suppressed", b"Export.export(Export.java:23)"),
    ("go/panic", b"main.(*store).add(...)"),
    ("go/panic", b"go/panic/main.go:10"),
    ("go/test_timeout", b"queue.go:12"),
]


@pytest.mark.parametrize(("case", "marker"), CASES)
@pytest.mark.parametrize("count", [1, 2])
def test_foreign_lines_inside_a_trace_are_skipped(case: str, marker: bytes, count: int) -> None:
    assert run_case(case, _interrupt(marker, count)) == expected(case)


@pytest.mark.parametrize(("case", "marker"), CASES)
def test_too_many_foreign_lines_never_claim_a_wrong_place(case: str, marker: bytes) -> None:
    allowed = {(p["path"], p["line"]) for p in expected(case)}
    got = run_case(case, _interrupt(marker, 3))
    assert {(p["path"], p["line"]) for p in got} <= allowed


def test_pytest_tb_line_names_come_from_the_summary_only_when_it_fits() -> None:
    """--tb=line failures are named by the short test summary, in its order; a summary that
    does not list as many failures (cut, or another run's) names none."""
    case = "pytest/line"
    named = run_case(case)
    assert [p["message"].split(" failed: ")[0] for p in named] == [
        "test_add",
        "test_div_zero",
        "test_add_many[1-1-2]",
        "test_add_many[2-2-4]",
    ]

    def drop_one_summary_line(lines: list[bytes]) -> list[bytes]:
        return [
            line for line in lines if not line.startswith(b"FAILED tests/test_calc.py::test_add ")
        ]

    unnamed = run_case(case, drop_one_summary_line)
    assert [(p["path"], p["line"]) for p in unnamed] == [(p["path"], p["line"]) for p in named]
    assert all(" failed: " not in p["message"] for p in unnamed)
