"""The synclet's wire protocol: the one vocabulary tilt-lsp and the synclet share.

tilt-lsp imports this module; the synclet never imports tilt_lsp (the agent must run alone in
its own image, like esbonio's ``sphinx_agent``). Everything here is pure and standard-library
only, so both sides can depend on it without pulling in aiohttp or docker.

One update is one request (see docs/synclet.md)::

    POST /v1/containers/{id}/update
    Authorization: Bearer <token>
    Content-Type: application/vnd.tilt-lsp.update+tar

    <UpdateSpec JSON on one line>\\n<uncompressed tar stream>

and the response streams :data:`Event` objects as NDJSON, one JSON object per line, each with
an ``"event"`` key. A stream ends with exactly one ``done`` or ``failed``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Literal, TypeAlias, get_args, get_origin, get_type_hints

PROTOCOL_VERSION = "1"
UPDATE_CONTENT_TYPE = "application/vnd.tilt-lsp.update+tar"
EVENTS_CONTENT_TYPE = "application/x-ndjson"
HEALTHZ_PATH = "/v1/healthz"
UPDATE_PATH_TEMPLATE = "/v1/containers/{id}/update"
MANAGED_LABEL = "dev.tilt-lsp.managed"
"""The label every container tilt-lsp builds or deploys carries; the synclet updates no other."""
MANAGED_VALUE = "true"

RestartMode: TypeAlias = Literal["none", "container", "process"]
FailureKind: TypeAlias = Literal["refused", "user", "infrastructure"]
ExtractMethod: TypeAlias = Literal["tar", "archive-api"]

RESTART_MODES: tuple[str, ...] = get_args(RestartMode)
FAILURE_KINDS: tuple[str, ...] = get_args(FailureKind)
EXTRACT_METHODS: tuple[str, ...] = get_args(ExtractMethod)


class ProtocolError(ValueError):
    """A message that does not follow this protocol (wrong type, missing key, bad value)."""


def update_path(container_id: str) -> str:
    """The URL path that updates ``container_id``."""
    return UPDATE_PATH_TEMPLATE.format(id=container_id)


def is_under(path: str, prefix: str) -> bool:
    """True when POSIX ``path`` equals ``prefix`` or lies below it (component-wise)."""
    prefix = prefix.rstrip("/")
    if prefix == "":
        return path.startswith("/")
    return path == prefix or path.startswith(prefix + "/")


# ---------------------------------------------------------------------------------------------
# Small typed readers: messages come from the network, so every field is checked.


def _obj(data: object, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{what} must be a JSON object, got {type(data).__name__}")
    return data


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{what}.{key} must be a string")
    return value


def _int(data: Mapping[str, Any], key: str, what: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{what}.{key} must be an integer")
    return value


def _strs(
    data: Mapping[str, Any], key: str, what: str, default: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    if key not in data and default is not None:
        return default
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"{what}.{key} must be a list of strings")
    if any("\x00" in v or not _encodable(v) for v in value):
        raise ProtocolError(f"{what}.{key} must hold UTF-8 text without NUL characters")
    return tuple(value)


def _encodable(text: str) -> bool:
    """False for strings with lone surrogates (``"\\ud800"`` in JSON): not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _choice(data: Mapping[str, Any], key: str, what: str, allowed: tuple[str, ...]) -> str:
    value = _str(data, key, what)
    if value not in allowed:
        raise ProtocolError(f"{what}.{key} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _loads(text: str | bytes, what: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError(f"{what} is nested too deeply") from None


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# The request


@dataclass(frozen=True)
class RunStep:
    """A command to run in the container after the files are in place (Tilt's ``run()``).

    ``command`` is an argv (no shell unless the user asks for ``sh -c``). ``triggers`` are
    container paths: empty means always run; otherwise the step runs when any changed path
    equals or lies under one of them.
    """

    command: tuple[str, ...]
    triggers: tuple[str, ...] = ()

    def triggered_by(self, changed: Iterable[str]) -> bool:
        """Whether this step should run for an update that changed ``changed``."""
        if not self.triggers:
            return True
        return any(is_under(path, trigger) for path in changed for trigger in self.triggers)

    def to_dict(self) -> dict[str, Any]:
        return {"command": list(self.command), "triggers": list(self.triggers)}

    @classmethod
    def from_dict(cls, data: object) -> RunStep:
        obj = _obj(data, "run step")
        command = _strs(obj, "command", "run step")
        if not command:
            raise ProtocolError("run step.command must not be empty")
        return cls(command=command, triggers=_strs(obj, "triggers", "run step", default=()))

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> RunStep:
        return cls.from_dict(_loads(text, "run step"))


@dataclass(frozen=True)
class UpdateSpec:
    """What one live update does, besides the files in the archive.

    ``deletes`` and ``changed`` are absolute container paths (``changed`` drives run-step
    triggers and is informational otherwise). Archive member names are relative to ``dest``.
    """

    deletes: tuple[str, ...]
    changed: tuple[str, ...]
    run_steps: tuple[RunStep, ...]
    restart: RestartMode
    dest: str = "/"

    def triggered_steps(self) -> list[tuple[int, RunStep]]:
        """The (index, step) pairs this update runs, in order."""
        return [(i, s) for i, s in enumerate(self.run_steps) if s.triggered_by(self.changed)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "deletes": list(self.deletes),
            "changed": list(self.changed),
            "run_steps": [s.to_dict() for s in self.run_steps],
            "restart": self.restart,
            "dest": self.dest,
        }

    @classmethod
    def from_dict(cls, data: object) -> UpdateSpec:
        obj = _obj(data, "update spec")
        steps = obj.get("run_steps", [])
        if not isinstance(steps, list):
            raise ProtocolError("update spec.run_steps must be a list")
        restart = _choice(obj, "restart", "update spec", RESTART_MODES)
        dest = obj.get("dest", "/")
        if not isinstance(dest, str) or not dest.startswith("/") or not _encodable(dest):
            raise ProtocolError("update spec.dest must be an absolute container path")
        spec = cls(
            deletes=_strs(obj, "deletes", "update spec", default=()),
            changed=_strs(obj, "changed", "update spec", default=()),
            run_steps=tuple(RunStep.from_dict(s) for s in steps),
            restart=restart,  # type: ignore[arg-type]  # checked by _choice
            dest=dest,
        )
        for path in (*spec.deletes, *spec.changed):
            if not path.startswith("/"):
                raise ProtocolError(f"update spec paths must be absolute container paths: {path!r}")
        return spec

    def to_json(self) -> str:
        """The spec as one line of JSON (no newline: :func:`encode_request` adds it)."""
        return _dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> UpdateSpec:
        return cls.from_dict(_loads(text, "update spec"))


def encode_request(spec: UpdateSpec, archive: bytes) -> bytes:
    """The body of an update request: the spec line, ``\\n``, then the tar stream."""
    return spec.to_json().encode("utf-8") + b"\n" + archive


# ---------------------------------------------------------------------------------------------
# The response: events


@dataclass(frozen=True)
class _EventBase:
    EVENT: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.EVENT}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def encode(self) -> bytes:
        """One NDJSON line."""
        return self.to_json().encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        """Parse one event; on a subclass, also check it is that kind of event."""
        event = event_from_json(text)
        if cls is not _EventBase and not isinstance(event, cls):
            raise ProtocolError(f"expected a {cls.EVENT!r} event, got {event.EVENT!r}")
        return event


@dataclass(frozen=True)
class Started(_EventBase):
    """The request was accepted and validated; work begins."""

    EVENT: ClassVar[str] = "started"


@dataclass(frozen=True)
class Deleted(_EventBase):
    """``count`` paths were removed (``rm -rf``: missing ones count too)."""

    EVENT: ClassVar[str] = "deleted"
    count: int


@dataclass(frozen=True)
class Extracted(_EventBase):
    """The archive was written into the container, by ``tar -x`` or Docker's archive API."""

    EVENT: ClassVar[str] = "extracted"
    files: int
    bytes: int
    method: ExtractMethod


@dataclass(frozen=True)
class StepStarted(_EventBase):
    """Run step ``index`` (its position in ``UpdateSpec.run_steps``) started."""

    EVENT: ClassVar[str] = "step_started"
    index: int
    command: tuple[str, ...]


@dataclass(frozen=True)
class Output(_EventBase):
    """One line the run step printed (stdout and stderr interleaved, no newline)."""

    EVENT: ClassVar[str] = "output"
    index: int
    line: str


@dataclass(frozen=True)
class StepExited(_EventBase):
    """Run step ``index`` exited with ``exit_code``."""

    EVENT: ClassVar[str] = "step_exited"
    index: int
    exit_code: int


@dataclass(frozen=True)
class Restarted(_EventBase):
    """The container (or its main process) was restarted."""

    EVENT: ClassVar[str] = "restarted"
    mode: RestartMode


@dataclass(frozen=True)
class Done(_EventBase):
    """The update succeeded; the last event of a successful stream."""

    EVENT: ClassVar[str] = "done"
    duration_ms: int


@dataclass(frozen=True)
class Failed(_EventBase):
    """The update stopped; the last event of a failed stream.

    ``user``: a run step failed; its output is the user's problem, do not rebuild.
    ``infrastructure``: the container is gone or Docker failed; fall back to a full rebuild.
    ``refused``: the request, archive or auth was rejected; nothing was written.
    """

    EVENT: ClassVar[str] = "failed"
    kind: FailureKind
    message: str


Event: TypeAlias = (
    Started | Deleted | Extracted | StepStarted | Output | StepExited | Restarted | Done | Failed
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.EVENT: cls
    for cls in (
        Started,
        Deleted,
        Extracted,
        StepStarted,
        Output,
        StepExited,
        Restarted,
        Done,
        Failed,
    )
}

_Reader: TypeAlias = Callable[[Mapping[str, Any], str, str], Any]


def _reader(hint: object) -> _Reader:
    """The checked reader of one event field, from its type."""
    if hint is int:
        return _int
    if hint is str:
        return _str
    if get_origin(hint) is tuple:
        return _strs
    if get_origin(hint) is Literal:
        allowed: tuple[str, ...] = get_args(hint)
        return lambda data, key, what: _choice(data, key, what, allowed)
    raise TypeError(f"no reader for event fields of type {hint!r}")


# Each event's fields and their readers, derived from the dataclasses so the two cannot drift.
_EVENT_FIELDS: dict[str, list[tuple[str, _Reader]]] = {
    name: [(f, _reader(hint)) for f, hint in get_type_hints(cls).items() if f != "EVENT"]
    for name, cls in EVENT_TYPES.items()
}


def event_from_dict(data: object) -> Event:
    """Parse one event object. Unknown extra keys are ignored so the synclet may add fields."""
    obj = _obj(data, "event")
    name = _str(obj, "event", "event")
    readers = _EVENT_FIELDS.get(name)
    if readers is None:
        raise ProtocolError(f"unknown event {name!r}")
    what = f"event {name!r}"
    return EVENT_TYPES[name](**{f: read(obj, f, what) for f, read in readers})


def event_from_json(line: str | bytes) -> Event:
    """Parse one NDJSON line of the response stream."""
    return event_from_dict(_loads(line, "event"))


def is_final(event: Event) -> bool:
    """``done`` and ``failed`` end a stream."""
    return isinstance(event, Done | Failed)
