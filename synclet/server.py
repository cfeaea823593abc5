"""The synclet's HTTP server: one streamed request per live update.

Why aiohttp: it is well kept, runs on asyncio (so the response can stream events while a
worker thread talks to Docker), reads request bodies incrementally (so size limits apply
before the bytes are in memory) and is a library, not a framework: no app layout to adopt,
no extra dependencies beyond what tilt-lsp already ships.

The request is checked completely (auth, size, spec, every archive member, ``process`` mode
support) before the ``200`` starts: a refusal is a ``4xx`` with ``{"error": ...}`` and nothing
is written. Once streaming, the outcome is an event: ``done`` or ``failed {kind}``.

Updates to one container are serialised (two overlapping ``tar -x`` and restarts would
interleave); updates to different containers run in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from aiohttp import web

from synclet import apply
from synclet.access import authorised, bad_container_id, is_managed, not_managed
from synclet.body import IN_MEMORY, BodyRefused, read_update_body, spool_file
from synclet.connections import ConnectionLimits, connection_of
from synclet.protocol import (
    EVENTS_CONTENT_TYPE,
    HEALTHZ_PATH,
    PROTOCOL_VERSION,
    UPDATE_CONTENT_TYPE,
    UPDATE_PATH_TEMPLATE,
    Event,
    Failed,
    ProtocolError,
    Started,
    UpdateSpec,
    is_final,
)
from synclet.rewrite import prepare_archive
from synclet.safety import ArchiveSummary, Limits, Refused, check_spec

log = logging.getLogger("synclet")

DEFAULT_MAX_BODY = 256 * 1024 * 1024
DEFAULT_MAX_SPEC = 1024 * 1024
VERSION = "0.2.0"


@dataclass
class ServerConfig:
    """What one synclet process enforces."""

    token: str
    max_body: int = DEFAULT_MAX_BODY
    max_spec: int = DEFAULT_MAX_SPEC
    max_members: int = 100_000
    restart_timeout: int = 0  # no grace, as Tilt (a death we cause is expected)
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    docker_factory: Callable[[], Any] | None = None


@dataclass
class _State:
    config: ServerConfig
    docker: Any = None
    docker_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    locks: dict[str, tuple[asyncio.Lock, int]] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def container_lock(self, container_id: str) -> AsyncIterator[None]:
        """Serialise updates per container; forget the lock when nobody holds or awaits it."""
        lock, users = self.locks.get(container_id, (asyncio.Lock(), 0))
        self.locks[container_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self.locks[container_id]
            if users == 1:
                del self.locks[container_id]
            else:
                self.locks[container_id] = (lock, users - 1)


_STATE = web.AppKey("synclet_state", _State)
_WARMUP = web.AppKey("synclet_warmup", asyncio.Task[None])


class HTTPRefusal(Exception):
    """A request refused before streaming starts: ``status`` and a message for ``error``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


async def _docker(state: _State) -> Any:
    """The Docker client, made once on first use (so the synclet starts before the engine)."""
    async with state.docker_lock:
        if state.docker is None:
            factory = state.config.docker_factory or _default_docker
            try:
                state.docker = await asyncio.to_thread(factory)
            except Exception as exc:
                raise apply.UpdateFailed(
                    "infrastructure", f"cannot reach the Docker engine: {exc}"
                ) from None
        return state.docker


def _default_docker() -> Any:
    import docker

    # The timeout bounds each socket read, including a run step's silence between two lines of
    # output: generous, so a quiet `pip install` is not mistaken for a dead engine.
    return docker.from_env(timeout=3600)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "version": VERSION, "protocol": PROTOCOL_VERSION})


async def _inspect(state: _State, container_id: str) -> dict[str, Any] | None:
    """The container's inspect data; None when it is gone or Docker is unreachable (the
    update stream then says so, as an infrastructure failure)."""
    try:
        client = await _docker(state)
    except apply.UpdateFailed:
        return None

    def inspect() -> dict[str, Any] | None:
        import docker.errors

        try:
            info: dict[str, Any] = client.api.inspect_container(container_id)
            return info
        except docker.errors.NotFound:
            return None
        except Exception as exc:  # Docker failing: the update stream reports it later
            log.info("inspecting %s failed: %s", container_id, exc)
            return None

    return await asyncio.to_thread(inspect)


async def _managed_id(state: _State, container_id: str) -> tuple[str, dict[str, Any] | None]:
    """The full id of the container (every later Docker call uses it, so a name re-used by
    another container meanwhile cannot redirect the update) and its inspect data; refuses
    (403) a container without the managed mark."""
    info = await _inspect(state, container_id)
    if info is None:
        return container_id, None
    if not is_managed(info):
        raise HTTPRefusal(403, not_managed(container_id))
    return str(info.get("Id") or container_id), info


@dataclass
class _Checked:
    """An update that passed every check of the request itself; owns its temporary file."""

    container_id: str
    spec: UpdateSpec
    archive: BinaryIO
    summary: ArchiveSummary
    deletes: list[str]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.archive.close()


async def _validate(request: web.Request, state: _State) -> _Checked:
    config = state.config
    if not authorised(request.headers.get("Authorization"), config.token):
        raise HTTPRefusal(401, "missing or wrong bearer token")
    raw_id = request.match_info["id"]
    if (why := bad_container_id(raw_id)) is not None:
        raise HTTPRefusal(400, why)
    ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype != UPDATE_CONTENT_TYPE:
        raise HTTPRefusal(
            400, f"Content-Type must be {UPDATE_CONTENT_TYPE}, got {ctype or 'none'!r}"
        )
    container_id = raw_id
    if request.content_length is None or request.content_length > IN_MEMORY:
        # Refuse an unmanaged container before spooling a large body (a small one is cheaper
        # to read than the extra Docker call; the check in the container's lock is the one
        # that counts).
        container_id, _ = await _managed_id(state, raw_id)
    try:
        spec_line, body = await read_update_body(
            request,
            max_body=config.max_body,
            max_spec=config.max_spec,
            body_timeout=config.limits.body_timeout,
        )
    except BodyRefused as exc:
        raise HTTPRefusal(exc.status, exc.message) from None
    try:
        try:
            spec = UpdateSpec.from_json(spec_line)
        except ProtocolError as exc:
            raise HTTPRefusal(400, f"bad update spec: {exc}") from None
        limits = Limits(max_members=config.max_members, max_bytes=config.max_body)

        def check() -> tuple[ArchiveSummary, list[str], BinaryIO]:
            deletes = check_spec(spec)
            out = spool_file()
            try:
                return prepare_archive(body, spec.dest, limits, out), deletes, out
            except BaseException:
                out.close()
                raise

        try:
            summary, deletes, archive = await asyncio.to_thread(check)
        except Refused as exc:
            raise HTTPRefusal(400, f"refused: {exc}; nothing was applied") from None
    finally:
        body.close()
    return _Checked(container_id, spec, archive, summary, deletes)


async def update(request: web.Request) -> web.StreamResponse:
    state = request.app[_STATE]
    t0 = time.monotonic()
    try:
        checked = await _validate(request, state)
    except HTTPRefusal as exc:
        return _refuse(request.match_info["id"], exc)
    streaming = False
    try:
        async with state.container_lock(checked.container_id):
            # Inside the lock, so the inspect data is fresh when the update reuses it.
            try:
                container_id, info = await _managed_id(state, checked.container_id)
                if (
                    info is not None
                    and checked.spec.restart == "process"
                    and apply.restart_signal(info) is None
                ):
                    raise HTTPRefusal(400, apply.process_mode_unsupported(container_id))
            except HTTPRefusal as exc:
                return _refuse(checked.container_id, exc)
            streaming = True  # the update's worker closes the archive when it is done with it
            return await _stream_update(request, state, container_id, checked, info, t0)
    finally:
        if not streaming:
            checked.close()


def _refuse(container_id: str, exc: HTTPRefusal) -> web.Response:
    log.info("refused update of %r: %s", container_id[:100], exc.message)
    extra = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return _error(exc.status, exc.message, **extra)


async def _stream_update(
    request: web.Request,
    state: _State,
    container_id: str,
    checked: _Checked,
    info: dict[str, Any] | None,
    t0: float,
) -> web.StreamResponse:
    """Apply the update (the caller holds the container's lock), streaming its events."""
    response = web.StreamResponse(status=200, headers={"Content-Type": EVENTS_CONTENT_TYPE})
    await response.prepare(request)
    writable = True

    async def send(event: Event) -> None:
        nonlocal writable
        if not writable:
            return
        try:
            await response.write(event.encode())
        except (ConnectionError, RuntimeError):
            writable = False  # the client left; finish the update anyway, it is half-done

    await send(Started())
    queue: asyncio.Queue[Event] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def emit(event: Event) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    async def work() -> None:
        try:
            client = await _docker(state)
            await asyncio.to_thread(
                apply.apply_update,
                client.api,
                container_id,
                checked.spec,
                checked.archive,
                checked.summary,
                checked.deletes,
                emit,
                restart_timeout=state.config.restart_timeout,
                started=t0,
                info=info,
            )
        except apply.UpdateFailed as exc:
            emit(Failed(kind=exc.kind, message=exc.message))
        except Exception as exc:
            log.exception("update of %s failed", container_id)
            emit(Failed(kind="infrastructure", message=f"synclet error: {exc}"))
        finally:
            checked.close()

    # A task of its own: the update runs to its end even if this handler is cancelled.
    task = asyncio.create_task(work())
    while True:
        event = await queue.get()
        await send(event)
        if is_final(event):
            break
    await task
    log.info("update of %s: %s", container_id, json.dumps(event.to_dict()))
    if writable:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write_eof()  # a client may hang up as soon as it reads done
    return response


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """Every error response, even aiohttp's own 404/405, has a JSON ``error`` body; the
    connection's phase (:mod:`synclet.connections`) follows the request."""
    connection = connection_of(request)
    if connection is not None:
        connection.request_started()
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error(exc.status, exc.reason)
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.path[:200])
        return _error(500, "internal synclet error (see the synclet's log)")
    finally:
        if connection is not None:
            connection.request_finished()


def make_app(config: ServerConfig) -> web.Application:
    """The aiohttp application (tests run it in-process with their own config)."""
    app = web.Application(middlewares=[_json_errors], client_max_size=config.max_body)
    app[_STATE] = _State(config=config)
    app.router.add_get(HEALTHZ_PATH, healthz)
    app.router.add_post(UPDATE_PATH_TEMPLATE, update)

    async def close_docker(app: web.Application) -> None:
        with contextlib.suppress(Exception):
            await app[_WARMUP]
        client = app[_STATE].docker
        if client is not None:
            await asyncio.to_thread(client.close)

    async def warm_docker(app: web.Application) -> None:
        # Importing docker and connecting takes ~0.5 s: pay it before the first save, not on it.
        async def warm() -> None:
            with contextlib.suppress(apply.UpdateFailed):
                await _docker(app[_STATE])

        app[_WARMUP] = asyncio.create_task(warm())

    app.on_startup.append(warm_docker)
    app.on_cleanup.append(close_docker)
    return app
