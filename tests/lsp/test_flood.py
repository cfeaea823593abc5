"""A service that floods its output: tilt/log notifications stay small, are dropped with a
count while the client does not read, and the diagnostics still arrive."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.lsp.rawclient import RawClient

FLOOD = """
for i in range(300000):
    print("flood line", i, "x" * 100)


def fail():
    raise ValueError("boom after the flood")


fail()
"""


async def test_a_flood_to_a_client_that_stops_reading_drops_logs_with_a_count_but_no_diagnostic(
    tmp_path: Path,
) -> None:
    (tmp_path / "flood.py").write_text(FLOOD)
    (tmp_path / "Tiltfile").write_text(
        "local_resource('flood', serve_cmd='python3 flood.py', auto_init=False)\n"
    )
    client = await RawClient.start()
    try:
        await client.initialize(tmp_path, {"watch": False, "logNotifications": True})
        await client.wait_resources(lambda rs: "flood" in rs, "the Tiltfile loaded")
        client.reading.clear()  # a client stuck elsewhere
        client.send(
            {
                "id": 10_000,
                "method": "workspace/executeCommand",
                "params": {"command": "tilt.trigger", "arguments": ["flood"]},
            }
        )
        await asyncio.sleep(8)  # the whole flood (34 MB) happens while nobody reads
        client.reading.set()

        uri = (tmp_path / "flood.py").as_uri()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            published = [
                n["params"]["diagnostics"]
                for n in client.notifications
                if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri
            ]
            if published and published[-1]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the flood's ValueError never became a diagnostic")
        (diagnostic,) = published[-1]
        assert "ValueError: boom after the flood" in diagnostic["message"]
        assert diagnostic["range"]["start"]["line"] == 6  # line 7: the raise

        def accounted() -> tuple[int, int]:
            logs = [n["params"] for n in client.notifications if n["method"] == "tilt/log"]
            flood = [p for p in logs if p["resource"] == "flood"]
            return sum(len(p["lines"]) for p in flood), sum(p.get("dropped", 0) for p in flood)

        deadline = time.monotonic() + 30
        while sum(accounted()) < 300000 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        sent, dropped = accounted()
        assert sent + dropped >= 300000  # every line is either sent or counted as dropped
        assert dropped > 0, "a stuck client must lose log lines, not stall the server"
        assert client.sizes["tilt/log"] <= 70 * 1024  # 64 KB of lines plus the envelope
        assert await client.shutdown_and_exit() == 0
    finally:
        await client.close()
