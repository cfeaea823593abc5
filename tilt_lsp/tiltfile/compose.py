"""Reading Docker Compose files the way ``docker compose config`` would, enough to know the
services, their images and build contexts. Pure: no compose CLI needed to read a Tiltfile."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class ComposeError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ComposeProject:
    name: str
    config_paths: tuple[str, ...]
    env_file: str | None
    services: Mapping[str, Mapping[str, Any]]  # in file order, after profiles


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``,
    ``${VAR:+alt}`` and ``$$``, as compose does."""

    def sub(m: re.Match[str]) -> str:
        if m.group("escaped"):
            return "$"
        name = m.group("braced") or m.group("named")
        op, arg = m.group("op"), m.group("arg") or ""
        value = env.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return interpolate(arg, env)
            return value
        if op in (":?", "?"):
            if value is None or (op == ":?" and value == ""):
                raise ComposeError(
                    f"required variable {name} is missing a value: {arg}".rstrip(": ")
                )
            return value
        if op in (":+", "+"):
            return (
                interpolate(arg, env)
                if value not in (None, "") or (op == "+" and value is not None)
                else ""
            )
        return value or ""

    return _VAR.sub(sub, text)


def read_env_file(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            key = key.removeprefix("export ").strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            out[key] = value
    return out


def project_name_for(path: str) -> str:
    base = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
    return re.sub(r"[^a-z0-9_-]", "", base) or "default"


def load_project(
    config_paths: list[str],
    env: Mapping[str, str],
    env_file: str | None = None,
    project_name: str = "",
    profiles: list[str] | None = None,
) -> ComposeProject:
    """Merge the compose files (later files override earlier ones per service key)."""
    if not config_paths:
        raise ComposeError("no compose file given")
    project_dir = os.path.dirname(config_paths[0])
    dotenv = env_file or os.path.join(project_dir, ".env")
    values: dict[str, str] = {}
    if os.path.isfile(dotenv):
        values.update(read_env_file(dotenv))
    elif env_file:
        raise ComposeError(f"env_file not found: {env_file}")
    values.update(env)  # the shell environment wins over .env, as in compose
    services: dict[str, dict[str, Any]] = {}
    for path in config_paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as err:
            raise ComposeError(f"cannot read compose file {path}: {err.strerror}") from None
        try:
            doc = yaml.safe_load(interpolate(text, values))
        except yaml.YAMLError as err:
            raise ComposeError(f"{path} is not valid YAML: {err}") from None
        if doc is None:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("services", {}), dict):
            raise ComposeError(f"{path}: expected a mapping with a 'services' mapping")
        for name, svc in (doc.get("services") or {}).items():
            svc = dict(svc or {})
            build = svc.get("build")
            if isinstance(build, str):
                svc["build"] = {"context": build}
            if isinstance(svc.get("build"), dict):
                b = dict(svc["build"])
                b["context"] = os.path.normpath(
                    os.path.join(os.path.dirname(path), b.get("context", "."))
                )
                svc["build"] = b
            services.setdefault(str(name), {}).update(svc)
    active = set(profiles or [])
    kept = {
        name: svc
        for name, svc in services.items()
        if not svc.get("profiles") or active & set(svc.get("profiles") or [])
    }
    name = project_name or values.get("COMPOSE_PROJECT_NAME") or project_name_for(config_paths[0])
    return ComposeProject(name, tuple(config_paths), env_file, kept)
