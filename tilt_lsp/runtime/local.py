"""The embedded local runtime: ``local_resource`` runs ``cmd`` on change, then (re)starts
``serve_cmd``. Output goes to the resource log and through the problem parsers."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping

from tilt_lsp.diagnostics.model import Problem
from tilt_lsp.diagnostics.paths import PathMapper
from tilt_lsp.diagnostics.stream import ProblemStream
from tilt_lsp.engine.actions import (
    BuildChanged,
    LogLines,
    ProblemsReset,
    RuntimeChanged,
)
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.runtime import probe as probes
from tilt_lsp.runtime.controller import Dispatch
from tilt_lsp.runtime.processes import ProcessHandle, ProcessRunner
from tilt_lsp.runtime.sink import QUIET_FLUSH_S, Sink
from tilt_lsp.tiltfile.model import Command, Resource


def exit_description(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class OutputSink(Sink):
    """A Sink whose problems are placed through ``mapper``, fed a batch of lines at a time
    (one log action and one quiet timer per batch, not per line)."""

    def __init__(self, resource: str, source: str, mapper: PathMapper, dispatch: Dispatch) -> None:
        super().__init__(resource, source, ProblemStream(mapper), dispatch)

    def feed(self, lines: list[str]) -> None:
        self._dispatch(LogLines(self._resource, tuple(lines)))
        found: list[Problem] = []
        for line in lines:
            found += self._stream.feed(line)
        self._found(found)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(QUIET_FLUSH_S, self._flush)


class LocalController:
    def __init__(
        self,
        resource: Resource,
        runner: ProcessRunner,
        dispatch: Dispatch,
        mapper_for: MapperFactory,
        env: Mapping[str, str],
    ) -> None:
        assert resource.local is not None
        self.resource = resource
        self.spec = resource.local
        self._runner = runner
        self._dispatch = dispatch
        self._mapper_for = mapper_for
        self._env = env
        self._serve: ProcessHandle | None = None
        self._watchers: set[asyncio.Task[None]] = set()
        self._ready = False

    # -- Controller ---------------------------------------------------------------------

    async def update(self, paths: frozenset[str], reason: str) -> bool:
        name = self.resource.name
        if self.spec.cmd is None:
            self._dispatch(BuildChanged(name, BuildStatus.NONE))
        elif not await self._run_cmd(self.spec.cmd):
            return False
        if self.spec.serve_cmd is not None:
            await self._start_serve(self.spec.serve_cmd)
        else:
            self._ready = True
            self._dispatch(RuntimeChanged(name, RuntimeStatus.NONE))
        return True

    async def rebuild(self) -> bool:
        return await self.update(frozenset(), "rebuild")

    async def restart(self) -> bool:
        if self.spec.serve_cmd is None:
            # Nothing runs: "restart" means run the command again.
            return await self.update(frozenset(), "restart")
        await self._start_serve(self.spec.serve_cmd)
        return True

    async def stop(self) -> None:
        handle, self._serve = self._serve, None
        self._ready = False
        if handle is not None:
            await self._runner.stop(handle)
            self._dispatch(
                RuntimeChanged(self.resource.name, RuntimeStatus.STOPPED, pid=handle.pid)
            )
        watchers = list(self._watchers)
        for task in watchers:
            task.cancel()
        if watchers:  # asyncio.wait: a cancellation of *this* call still propagates
            await asyncio.wait(watchers)

    def is_ready(self) -> bool:
        return self._ready

    # -- internals ----------------------------------------------------------------------

    def _process_env(self, extra: Mapping[str, str]) -> dict[str, str]:
        env = {**self._env, **self.spec.env, **extra}
        # Python buffers stdout into a pipe until exit; logs must arrive as they happen.
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    async def _run_cmd(self, cmd: Command) -> bool:
        name = self.resource.name
        self._dispatch(ProblemsReset(name, "build"))
        self._dispatch(BuildChanged(name, BuildStatus.BUILDING))
        self._dispatch(LogLines(name, (f"$ {cmd.display}",)))
        sink = OutputSink(name, "build", self._mapper_for(self.spec.dir), self._dispatch)
        try:
            handle = await self._runner.start(
                cmd.argv, self.spec.dir, self._process_env({}), sink.feed
            )
        except OSError as err:
            message = f"cannot run {cmd.display!r}: {err.strerror or err}"
            self._dispatch(LogLines(name, (message,)))
            self._dispatch(BuildChanged(name, BuildStatus.ERROR, message))
            return False
        try:
            code = await handle.wait()
        except asyncio.CancelledError:  # the update was called off: so is its command
            await asyncio.shield(self._runner.stop(handle))
            raise
        finally:
            sink.close()
        if code != 0:
            message = f"cmd {cmd.display!r} {exit_description(code)}"
            self._dispatch(LogLines(name, (message,)))
            self._dispatch(BuildChanged(name, BuildStatus.ERROR, message))
            return False
        self._dispatch(BuildChanged(name, BuildStatus.OK))
        return True

    async def _start_serve(self, cmd: Command) -> None:
        name = self.resource.name
        old, self._serve = self._serve, None
        self._ready = False
        if old is not None:
            await self._runner.stop(old)
        self._dispatch(ProblemsReset(name, "runtime"))
        self._dispatch(RuntimeChanged(name, RuntimeStatus.STARTING))
        self._dispatch(LogLines(name, (f"$ {cmd.display}",)))
        sink = OutputSink(name, "runtime", self._mapper_for(self.spec.serve_dir), self._dispatch)
        try:
            handle = await self._runner.start(
                cmd.argv, self.spec.serve_dir, self._process_env(self.spec.serve_env), sink.feed
            )
        except OSError as err:
            message = f"cannot start {cmd.display!r}: {err.strerror or err}"
            self._dispatch(LogLines(name, (message,)))
            self._dispatch(RuntimeChanged(name, RuntimeStatus.CRASHED, error=message))
            return
        self._serve = handle
        probe = self.spec.readiness_probe
        self._dispatch(
            RuntimeChanged(
                name, RuntimeStatus.RUNNING if probe else RuntimeStatus.READY, pid=handle.pid
            )
        )
        self._ready = probe is None
        self._spawn(self._watch_exit(handle, sink))
        if probe is not None:
            self._spawn(self._probe(handle))

    def _spawn(self, coro: asyncio._CoroutineLike[None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _probe(self, handle: ProcessHandle) -> None:
        probe = self.spec.readiness_probe
        assert probe is not None
        if (
            await probes.wait_ready(probe, self.spec.serve_dir, handle.done)
            and self._serve is handle
        ):
            self._ready = True
            self._dispatch(RuntimeChanged(self.resource.name, RuntimeStatus.READY, pid=handle.pid))

    async def _watch_exit(self, handle: ProcessHandle, sink: OutputSink) -> None:
        try:
            code = await handle.wait()
        finally:
            sink.close()
        if self._serve is not handle:
            return  # stopped or replaced by us: not news
        self._serve = None
        self._ready = False
        name = self.resource.name
        if code == 0:
            self._dispatch(LogLines(name, ("serve_cmd exited with code 0",)))
            self._dispatch(RuntimeChanged(name, RuntimeStatus.EXITED, pid=handle.pid, exit_code=0))
        else:
            message = f"serve_cmd {exit_description(code)}"
            self._dispatch(LogLines(name, (message,)))
            self._dispatch(
                RuntimeChanged(
                    name, RuntimeStatus.CRASHED, pid=handle.pid, exit_code=code, error=message
                )
            )


class MapperFactory:
    """PathMappers for local output: paths print as local paths, relative to the process's
    working directory. One workspace index is shared by every mapper."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._mappers: dict[str, PathMapper] = {}

    def __call__(self, workdir: str) -> PathMapper:
        mapper = self._mappers.get(workdir)
        if mapper is None:
            mapper = self._mappers[workdir] = PathMapper(
                root=self.root, local_workdir=os.path.abspath(workdir)
            )
        return mapper
