"""tilt/log batching, pure: payloads stay under the size bound, drops are counted."""

from __future__ import annotations

from tilt_lsp.lsp.logbatch import MAX_LINE_CHARS, LogBatcher


def test_payloads_stay_under_the_size_bound_and_keep_order() -> None:
    batcher = LogBatcher(batch_chars=1000)
    lines = [f"line {i:04d} " + "x" * 90 for i in range(100)]
    batcher.add("web", lines)
    assert batcher.full
    payloads = batcher.take()
    assert all(sum(len(line) + 4 for line in p["lines"]) <= 1000 for p in payloads)
    assert [line for p in payloads for line in p["lines"]] == lines
    assert not batcher.full and batcher.take() == []


def test_a_huge_line_is_cut_and_says_so() -> None:
    batcher = LogBatcher()
    batcher.add("web", ["y" * (MAX_LINE_CHARS + 10)])
    ((line,),) = [p["lines"] for p in batcher.take()]
    assert line.endswith("… (10 more characters)")


def test_dropped_lines_are_counted_in_the_next_payload_or_on_their_own() -> None:
    batcher = LogBatcher()
    batcher.add("web", ["a", "b"])
    (payload,) = batcher.take()
    batcher.drop(payload)
    assert batcher.owed
    (alone,) = batcher.take()  # no new line: the count travels alone
    assert alone == {"resource": "web", "lines": [], "dropped": 2}
    batcher.drop(alone)
    batcher.add("web", ["c"])
    assert batcher.take() == [{"resource": "web", "lines": ["c"], "dropped": 2}]
    assert not batcher.owed
