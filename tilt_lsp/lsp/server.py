"""The pygls server: LSP in, engine actions out; engine news out as LSP notifications.

Handlers are a few lines each and call the engine; the engine runs on pygls' own asyncio
loop, so its listener callbacks can send notifications directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from tilt_lsp import __version__
from tilt_lsp.commands.common import find_tiltfile
from tilt_lsp.engine.engine import Engine, EngineError
from tilt_lsp.engine.status import LOG_TAIL
from tilt_lsp.lsp import features
from tilt_lsp.lsp import protocol as p
from tilt_lsp.lsp.listener import LspListener, plain_json, status_payload
from tilt_lsp.tiltfile.worker import TIMEOUT_S

log = logging.getLogger(__name__)


class TiltLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tilt-lsp", __version__)
        self.engine: Engine | None = None
        self.root: str | None = None
        self.options: dict[str, Any] = {}
        self._start_task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Future[None] | None = None
        self.tiltfile_timeout = TIMEOUT_S  # `serve --tiltfile-timeout`; the option overrides

    # -- setup ------------------------------------------------------------------------------

    def configure(self, params: types.InitializeParams) -> None:
        folders = params.workspace_folders or []
        root_uri = folders[0].uri if folders else params.root_uri
        self.root = to_fs_path(root_uri) if root_uri else (params.root_path or os.getcwd())
        opts = params.initialization_options
        self.options = opts if isinstance(opts, dict) else {}

    def tiltfile(self) -> str | None:
        root = self.root or os.getcwd()
        configured = self.options.get("tiltfile")
        if configured:
            path = os.path.join(root, os.path.expanduser(str(configured)))
            return path if os.path.isfile(path) else None
        direct = os.path.join(root, "Tiltfile")
        return direct if os.path.isfile(direct) else find_tiltfile(root)

    async def start_engine(self) -> None:
        tiltfile = self.tiltfile()
        if tiltfile is None:
            where = self.options.get("tiltfile") or os.path.join(self.root or ".", "Tiltfile")
            self.show(
                types.MessageType.Warning,
                f"tilt-lsp: no Tiltfile found at {where}; set the 'tiltfile' option or open the folder that holds it",
            )
            return
        root = (
            self.root
            if self.root and tiltfile.startswith(self.root + os.sep)
            else os.path.dirname(tiltfile)
        )
        args = self.options.get("tiltfileArgs") or []
        self.engine = Engine(
            tiltfile,
            root=root,
            listener=LspListener(self),
            tiltfile_timeout=self._timeout_option(),
            tiltfile_args=[str(a) for a in args] if isinstance(args, list) else [],
        )
        await self.engine.start(watch=bool(self.options.get("watch", True)))

    async def stop_engine(self) -> None:
        """Stop the engine and everything it started; once, however many ways we are told
        (shutdown, exit, stdin EOF, a signal)."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop_engine())
        await asyncio.shield(self._stopping)

    async def _stop_engine(self) -> None:
        if self._start_task is not None and not self._start_task.done():
            self._start_task.cancel()
            await asyncio.wait({self._start_task})
        if self.engine is not None:
            await self.engine.stop()

    def kill_now(self) -> None:
        """The last resort when a stop takes too long: SIGKILL every process group."""
        if self.engine is not None:
            self.engine.kill_processes()

    def _timeout_option(self) -> float:
        value = self.options.get("tiltfileTimeout")
        if value is None:
            return self.tiltfile_timeout
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        self.show(
            types.MessageType.Warning,
            f"tilt-lsp: tiltfileTimeout must be a number of seconds > 0, got {value!r}; "
            f"using {self.tiltfile_timeout:g}",
        )
        return self.tiltfile_timeout

    def show(self, kind: types.MessageType, text: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=text))


server = TiltLanguageServer()


@server.feature(types.INITIALIZE)
def initialize(ls: TiltLanguageServer, params: types.InitializeParams) -> None:
    ls.configure(params)


@server.feature(types.INITIALIZED)
def initialized(ls: TiltLanguageServer, params: types.InitializedParams) -> None:
    ls._start_task = asyncio.get_running_loop().create_task(ls.start_engine())


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: TiltLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    path = to_fs_path(params.text_document.uri)
    if ls.engine is not None and path:
        ls.engine.files_changed([path], origin="save")


@server.feature(types.SHUTDOWN)
async def shutdown(ls: TiltLanguageServer, params: None) -> None:
    await ls.stop_engine()


def _resource_arg(args: Any) -> str:
    """Commands take the resource as ``[name]`` or ``[{"resource": name}]``."""
    first = args[0] if isinstance(args, list | tuple) and args else args
    if isinstance(first, dict):
        first = first.get("resource") or first.get("name")
    if not isinstance(first, str) or not first:
        raise ValueError("expected the resource name as the first argument")
    return first


@contextlib.contextmanager
def _plain_errors() -> Iterator[None]:
    """A user's mistake (unknown resource, bad arguments) goes back as the JSON-RPC error's
    plain message, without a Python exception name in front."""
    try:
        yield
    except (EngineError, ValueError) as err:
        raise JsonRpcInvalidParams(message=str(err)) from None


def _engine(ls: TiltLanguageServer) -> Engine:
    if ls.engine is None:
        raise EngineError("no Tiltfile is loaded")
    return ls.engine


# Each command names the resource; the work's outcome arrives as tilt/status notifications.
_COMMANDS: dict[str, Callable[[Engine, str], object]] = {
    p.CMD_RESTART: Engine.restart,
    p.CMD_REBUILD: Engine.rebuild,
    p.CMD_TRIGGER: Engine.trigger,
    p.CMD_ENABLE: Engine.enable,
    p.CMD_DISABLE: Engine.disable,
}


def _register(command: str, action: Callable[[Engine, str], object]) -> None:
    @server.command(command)
    async def run(ls: TiltLanguageServer, args: Any) -> dict[str, Any]:
        with _plain_errors():
            name = _resource_arg(args)
            result = action(_engine(ls), name)
            if inspect.isawaitable(result):
                await result
        return {"resource": name, "accepted": True}


for _command, _action in _COMMANDS.items():
    _register(_command, _action)


@server.feature(p.REQ_RESOURCES)
def resources(ls: TiltLanguageServer, params: Any) -> dict[str, Any]:
    engine = ls.engine
    statuses = list(engine.statuses.values()) if engine else []
    payload = status_payload(engine, statuses)
    payload["resources"] = [plain_json(s, LOG_TAIL) for s in statuses]
    return payload


@server.feature(p.REQ_LOGS)
def logs(ls: TiltLanguageServer, params: Any) -> dict[str, Any]:
    name = _param(params, "resource")
    lines = _param(params, "lines", 200)
    with _plain_errors():
        if not isinstance(name, str) or not isinstance(lines, int):
            raise ValueError("tilt/logs needs {resource: string, lines?: number}")
        return {"resource": name, "lines": _engine(ls).logs(name, lines)}


features.register(server)


def _param(params: Any, key: str, default: Any = None) -> Any:
    if isinstance(params, dict):
        return params.get(key, default)
    return getattr(params, key, default)
