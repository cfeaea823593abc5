"""``tilt-lsp doctor``: what this machine offers, what the Tiltfile needs, and how to fix
what is missing."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from tilt_lsp import __version__
from tilt_lsp.commands.common import add_tiltfile_argument, find_tiltfile
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.loader import load_tiltfile
from tilt_lsp.tiltfile.model import Model, ResourceKind


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = False  # the Tiltfile needs this to work


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check Docker, compose, Kubernetes and the Tiltfile, and say how to fix what is missing",
    )
    add_tiltfile_argument(p)
    p.set_defaults(func=run)


def check_tiltfile(arg: str | None) -> tuple[Check, Model | None]:
    path = os.path.abspath(arg) if arg else find_tiltfile()
    if path and os.path.isdir(path):
        path = os.path.join(path, "Tiltfile")
    if not path or not os.path.isfile(path):
        return Check(
            "Tiltfile", False, "not found", "cd into your project, or pass --file PATH", True
        ), None
    try:
        model = load_tiltfile(path)
    except TiltfileError as err:
        return Check(
            "Tiltfile", False, f"{path}: {err}", "fix the error at the place shown", True
        ), None
    kinds = sorted({r.kind.value for r in model.resources})
    detail = f"{path}: {len(model.resources)} resources ({', '.join(kinds) or 'none'})"
    return Check("Tiltfile", True, detail), model


def check_docker(needed: bool) -> Check:
    try:
        import docker

        client = docker.from_env(timeout=5)
        version = client.version()
        client.close()
        return Check(
            "Docker engine",
            True,
            f"reachable, version {version.get('Version', '?')} (API {version.get('ApiVersion', '?')})",
        )
    except Exception as err:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return Check(
            "Docker engine",
            False,
            f"not reachable at {host}: {err.__class__.__name__}",
            "install and start Docker (Debian: apt-get install docker.io && dockerd &), "
            "or set DOCKER_HOST",
            needed,
        )


def check_compose(needed: bool) -> Check:
    for argv in (
        ["docker", "compose", "version", "--short"],
        ["docker-compose", "version", "--short"],
    ):
        if shutil.which(argv[0]) is None:
            continue
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return Check("Compose CLI", True, f"{' '.join(argv[:-2])} {proc.stdout.strip()}")
    return Check(
        "Compose CLI",
        False,
        "neither `docker compose` nor `docker-compose` works",
        "install the compose plugin, or Debian's docker-compose package",
        needed,
    )


def check_kube(needed: bool) -> list[Check]:
    """The kubeconfig, the API server (version, within seconds) and the user's rights."""
    from tilt_lsp.runtime.k8s.health import check

    return [Check(f.name, f.ok, f.detail, f.fix, needed) for f in check(os.environ)]


def run(args: argparse.Namespace) -> int:
    print(f"tilt-lsp {__version__}")
    tiltfile, model = check_tiltfile(args.file)
    kinds = {r.kind for r in model.resources} if model else set()
    uses_docker = bool(model and (model.images or ResourceKind.DOCKER_COMPOSE in kinds))
    checks = [
        tiltfile,
        check_docker(uses_docker),
        check_compose(ResourceKind.DOCKER_COMPOSE in kinds),
        *check_kube(ResourceKind.K8S in kinds),
    ]
    for c in checks:
        mark = "ok " if c.ok else ("ERR" if c.needed else "-- ")
        print(f"[{mark}] {c.name}: {c.detail}")
        if not c.ok and c.fix:
            print(f"      fix: {c.fix}")
    missing = [c for c in checks if not c.ok and c.needed]
    if missing:
        print(f"\n{len(missing)} problem(s) stop this Tiltfile from working here.")
        return 1
    print("\nEverything this Tiltfile needs is here.")
    return 0
