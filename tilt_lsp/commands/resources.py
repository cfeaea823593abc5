"""``tilt-lsp resources``: show what the Tiltfile was understood to mean."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tilt_lsp.commands.common import add_tiltfile_argument, located, resolve_tiltfile
from tilt_lsp.tiltfile import serialize
from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.loader import load_tiltfile
from tilt_lsp.tiltfile.model import Model


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "resources",
        help="evaluate the Tiltfile and print the resources it defines",
        description="Evaluate the Tiltfile and print its resources: names, kinds, "
        "dependencies, images, sync rules and trigger modes.",
    )
    add_tiltfile_argument(p)
    p.add_argument("--json", action="store_true", help="print the whole model as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    path = resolve_tiltfile(args.file)
    try:
        model = load_tiltfile(path)
    except TiltfileError as err:
        located(err.location, "error", err.message)
        return 1
    for w in model.warnings:
        located(w.location, "warning", w.message)
    if args.json:
        json.dump(serialize.model(model), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(model)
    return 0


def _rel(path: str, base: str) -> str:
    rel = os.path.relpath(path, base)
    return path if rel.startswith("..") else rel


def print_table(model: Model) -> None:
    base = os.path.dirname(model.tiltfile)
    print(f"Tiltfile: {model.tiltfile}")
    if not model.resources:
        print("No resources. Define some with local_resource, docker_compose or k8s_yaml.")
    rows = [("RESOURCE", "KIND", "TRIGGER", "AUTO-INIT", "DEPENDS ON", "IMAGES")]
    for r in model.resources:
        rows.append(
            (
                r.name,
                r.kind.value,
                r.trigger_mode.value,
                "yes" if r.auto_init else "no",
                ",".join(r.resource_deps) or "-",
                ",".join(r.image_refs) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows if model.resources else []:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    for r in model.resources:
        if r.local:
            if r.local.cmd:
                print(f"\n{r.name}: cmd: {r.local.cmd.display}")
            else:
                print(f"\n{r.name}:")
            if r.local.serve_cmd:
                print(f"  serve_cmd: {r.local.serve_cmd.display}")
            if r.local.deps:
                print(f"  deps: {', '.join(_rel(d, base) for d in r.local.deps)}")
    for image in model.images:
        print(f"\nimage {image.ref}: context {_rel(image.context, base)}")
        lu = image.live_update
        if lu is None:
            print("  no live update: every change rebuilds the image")
            continue
        for f in lu.fall_back_on:
            print(f"  fall back to a full build on: {_rel(f, base)}")
        for s in lu.syncs:
            print(f"  sync {_rel(s.local_path, base)} -> {s.container_path}")
        for step in lu.runs:
            trig = (
                f" (when {', '.join(_rel(t, base) for t in step.triggers)} change)"
                if step.triggers
                else ""
            )
            print(f"  run {step.command.display}{trig}")
        if lu.restart_container:
            print("  restart the container")
