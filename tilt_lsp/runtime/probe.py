"""Readiness probes for local resources (Tilt's probe(): exec, http_get, tcp_socket)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from tilt_lsp.tiltfile.model import Probe


async def check_once(probe: Probe, cwd: str) -> bool:
    try:
        return await asyncio.wait_for(_check(probe, cwd), probe.timeout_secs)
    except (TimeoutError, OSError):
        return False


async def _check(probe: Probe, cwd: str) -> bool:
    if probe.action == "exec":
        assert probe.command is not None
        proc = await asyncio.create_subprocess_exec(
            *probe.command.argv,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            return await proc.wait() == 0
        finally:  # a probe past its timeout (or the engine stopping) leaves nothing behind
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
    reader, writer = await asyncio.open_connection(probe.host, probe.port)
    try:
        if probe.action == "tcp_socket":
            return True
        writer.write(
            f"GET {probe.path} HTTP/1.0\r\nHost: {probe.host}\r\nUser-Agent: tilt-lsp\r\n\r\n".encode()
        )
        await writer.drain()
        status = await reader.readline()
        parts = status.split()
        return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def wait_ready(probe: Probe, cwd: str, alive: asyncio.Future[int]) -> bool:
    """Poll until ``success_threshold`` passes in a row; False if the process ended first."""
    await asyncio.sleep(probe.initial_delay_secs)
    successes = 0
    period = max(probe.period_secs, 0.2)
    while not alive.done():
        if await check_once(probe, cwd):
            successes += 1
            if successes >= probe.success_threshold:
                return True
        else:
            successes = 0
        done, _ = await asyncio.wait({alive}, timeout=period)
        if done:
            break
    return False
