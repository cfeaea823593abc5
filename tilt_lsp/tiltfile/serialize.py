"""The model as plain JSON-ready data, for ``tilt-lsp resources --json`` and the LSP layer."""

from __future__ import annotations

from typing import Any

from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.model import (
    Command,
    ImageBuild,
    LiveUpdate,
    Location,
    Model,
    Probe,
    Resource,
)


def location(loc: Location | None) -> dict[str, Any] | None:
    return None if loc is None else {"path": loc.path, "line": loc.line, "column": loc.column}


def command(cmd: Command | None) -> dict[str, Any] | None:
    return (
        None
        if cmd is None
        else {"argv": list(cmd.argv), "shell": cmd.shell, "display": cmd.display}
    )


def live_update(lu: LiveUpdate | None) -> dict[str, Any] | None:
    if lu is None:
        return None
    return {
        "fall_back_on": list(lu.fall_back_on),
        "sync": [
            {"local_path": s.local_path, "container_path": s.container_path} for s in lu.syncs
        ],
        "run": [
            {"command": command(r.command), "trigger": list(r.triggers), "echo_off": r.echo_off}
            for r in lu.runs
        ],
        "restart_container": lu.restart_container,
        "restart_process": lu.restart_process,
        "initial_sync": lu.initial_sync,
    }


def image(i: ImageBuild) -> dict[str, Any]:
    return {
        "ref": i.ref,
        "context": i.context,
        "dockerfile": i.dockerfile,
        "dockerfile_contents": i.dockerfile_contents,
        "build_args": dict(i.build_args),
        "target": i.target,
        "ignore": list(i.ignore),
        "only": list(i.only),
        "entrypoint": command(i.entrypoint),
        "live_update": live_update(i.live_update),
        "location": location(i.location),
        "custom_build": None
        if i.custom is None
        else {
            "command": command(i.custom.command),
            "deps": list(i.custom.deps),
            "dir": i.custom.dir,
            "env": dict(i.custom.env),
            "tag": i.custom.tag,
            "disable_push": i.custom.disable_push,
            "skips_local_docker": i.custom.skips_local_docker,
            "outputs_image_ref_to": i.custom.outputs_image_ref_to,
        },
    }


def probe(p: Probe | None) -> dict[str, Any] | None:
    if p is None:
        return None
    out: dict[str, Any] = {
        "action": p.action,
        "period_secs": p.period_secs,
        "timeout_secs": p.timeout_secs,
    }
    if p.action == "exec":
        out["command"] = command(p.command)
    else:
        out.update(host=p.host, port=p.port)
        if p.action == "http_get":
            out.update(path=p.path, scheme=p.scheme)
    return out


def resource(r: Resource) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": r.name,
        "kind": r.kind.value,
        "trigger_mode": r.trigger_mode.value,
        "auto_init": r.auto_init,
        "resource_deps": list(r.resource_deps),
        "labels": list(r.labels),
        "links": [{"url": link.url, "name": link.name} for link in r.links],
        "images": list(r.image_refs),
        "location": location(r.location),
    }
    if r.local:
        lo = r.local
        out["local"] = {
            "cmd": command(lo.cmd),
            "serve_cmd": command(lo.serve_cmd),
            "deps": list(lo.deps),
            "ignore": list(lo.ignore),
            "dir": lo.dir,
            "serve_dir": lo.serve_dir,
            "env": dict(lo.env),
            "serve_env": dict(lo.serve_env),
            "allow_parallel": lo.allow_parallel,
            "readiness_probe": probe(lo.readiness_probe),
        }
    if r.compose:
        c = r.compose
        out["docker_compose"] = {
            "project": c.project_name,
            "service": c.service,
            "config_paths": list(c.config_paths),
            "image": c.config.get("image"),
            "build": c.config.get("build"),
        }
    if r.k8s:
        out["k8s"] = {
            "workload": r.k8s.workload,
            "objects": [k8s.selector_of(o) for o in r.k8s.objects],
            "port_forwards": [
                {"local_port": p.local_port, "container_port": p.container_port, "host": p.host}
                for p in r.k8s.port_forwards
            ],
        }
    if r.custom_deploy:
        cd = r.custom_deploy
        out["k8s_custom_deploy"] = {
            "apply_cmd": command(cd.apply_cmd),
            "delete_cmd": command(cd.delete_cmd),
            "deps": list(cd.deps),
            "image_deps": list(cd.image_deps),
        }
    return out


def model(m: Model) -> dict[str, Any]:
    return {
        "tiltfile": m.tiltfile,
        "resources": [resource(r) for r in m.resources],
        "images": [image(i) for i in m.images],
        "config_files": list(m.config_files),
        "warnings": [{"message": w.message, "location": location(w.location)} for w in m.warnings],
        "default_registry": m.default_registry,
        "enabled_resources": None if m.enabled_resources is None else list(m.enabled_resources),
        "k8s_context": m.k8s_context,
        "ui_objects": [dict(o) for o in m.ui_objects],
    }
