"""LSP framing, pure: bodies cut by Content-Length, resynchronised when a header lies."""

from __future__ import annotations

import json

from tilt_lsp.lsp.stdio import Framing


def frame(body: bytes, length: int | None = None) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def message(n: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "tilt/resources"}).encode()


def test_messages_split_anywhere_come_out_whole() -> None:
    data = frame(message(1)) + b"Content-Length: 60\r\nContent-Type: x\r\n\r\n" + b" " * 60
    framing = Framing()
    bodies = [body for i in range(len(data)) for body in framing.feed(data[i : i + 1])]
    assert bodies == [message(1), b" " * 60]
    assert framing.problems == []


def test_a_body_shorter_than_announced_resynchronises_on_the_next_header() -> None:
    framing = Framing()
    assert framing.feed(frame(message(1), len(message(1)) + 500)) == []  # waiting for more
    assert framing.feed(frame(message(2))) == [message(1), message(2)]
    (problem,) = framing.problems
    assert "announced Content-Length" in problem and "resynchronised" in problem


def test_garbage_before_a_header_is_skipped_and_said() -> None:
    framing = Framing()
    assert framing.feed(b"hello\r\n" + frame(message(3))) == [message(3)]
    assert framing.problems == ["skipped 7 bytes before a Content-Length header"]
