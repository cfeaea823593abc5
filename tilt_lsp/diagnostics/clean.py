"""Cleaning one raw log line before any parser sees it.

Output reaches us dirty: bytes that are not UTF-8, CRLF endings, ANSI colours, RFC3339
timestamps from ``kubectl logs --timestamps`` or ``docker logs -t``, and the ``service  | ``
prefixes docker-compose (v1 and v2), Tilt (``name │``) and ``kubectl logs --prefix`` put on
interleaved output. Parsers are written for clean lines; the prefix becomes the *channel*
under which the stream keeps one set of parser states, so interleaved processes never mix.
"""

from __future__ import annotations

import re

MAX_LINE = 64 * 1024
"""Characters of a line that are kept: stack frames and compiler lines are far shorter."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2}) "
)
_CHANNEL = re.compile(r"^(?P<name>[A-Za-z][\w.-]{0,62})\s*(?:\||│)(?: |$)")
_KUBECTL_PREFIX = re.compile(r"^\[(?P<name>(?:pod|deployment|job|statefulset)/[^\]\s]+)\] ")


def decode(raw: str | bytes) -> str:
    """Text of a raw line: invalid UTF-8 replaced, line ending removed, length capped."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_LINE * 4:
            raw = raw[: MAX_LINE * 4]
        raw = raw.decode("utf-8", errors="replace")
    if len(raw) > MAX_LINE:
        raw = raw[:MAX_LINE]
    return raw.rstrip("\r\n")


def clean(raw: str | bytes) -> tuple[str, str]:
    """(channel, text) of a raw line; the channel is "" for unprefixed output."""
    # decode() inlined for the common short line: this runs on every line of every log.
    if isinstance(raw, bytes) and len(raw) <= MAX_LINE:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
    else:
        text = decode(raw)
    if "\r" in text:
        text = text.rsplit("\r", 1)[-1]  # a progress line redrawn in place: the last drawing
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    channel = ""
    if text[10:11] == "T":
        text = _strip_timestamp(text)
    if text[:1] == "[" and (match := _KUBECTL_PREFIX.match(text)):
        channel = match.group("name")
        text = _strip_timestamp(text[match.end():])
    elif ("|" in text or "│" in text) and (match := _CHANNEL.match(text)):
        channel = match.group("name")
        text = text[match.end():]
        if text[:1].isdigit():
            text = _strip_timestamp(text)
    return channel, text


def _strip_timestamp(text: str) -> str:
    if text[10:11] != "T":
        return text
    match = _TIMESTAMP.match(text)
    return text[match.end():] if match else text
