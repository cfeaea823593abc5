"""``tilt-lsp synclet``: the synclet's image and Kubernetes manifests, from the installed package.

A ``pip install tilt-lsp`` has no source checkout, so the files that build the synclet image
(``synclet/Dockerfile``, ``requirements.txt``, the package itself) and deploy it as a DaemonSet
(``synclet/deploy/*.yaml``) ship as package data, and this command prints them:

- ``manifests``: the namespace, RBAC, DaemonSet and the rest of ``synclet/deploy``, ready
  for ``kubectl apply -f -``;
- ``dockerfile``: the Dockerfile (its build context is the one ``context`` writes);
- ``context``: a tar of that build context, for ``docker build -``.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, BinaryIO

# The namespace comes first: everything else lives in it. ``*.example.yaml`` files are not
# applied as they are (secret.example.yaml holds a placeholder token).
FIRST = "namespace.yaml"
DEFAULT_IMAGE = "tilt-lsp-synclet:dev"
_IMAGE_LINE = re.compile(r"^(?P<indent>\s+image:\s*)(?P<ref>\S+)\s*$", re.MULTILINE)
_SKIP = ("__pycache__",)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "synclet",
        help="print the synclet's Kubernetes manifests, Dockerfile or image build context",
        description=(
            "The synclet applies live updates next to a remote Docker engine or on Kubernetes "
            "nodes with a Docker runtime (docs/synclet.md). These print what builds and deploys "
            "it, from the installed package: no source checkout needed."
        ),
    )
    what = p.add_subparsers(dest="synclet_command", metavar="WHAT", required=True)
    m = what.add_parser(
        "manifests",
        help="the namespace, RBAC, DaemonSet and network policy, for `kubectl apply -f -`",
        description=(
            "Print synclet/deploy/*.yaml (the namespace first; not the example Secret) as one "
            "YAML stream. Create the token Secret yourself (see secret.example.yaml's comments)."
        ),
    )
    m.add_argument(
        "--image",
        metavar="REF",
        default=None,
        help=f"the synclet image the DaemonSet runs (default: {DEFAULT_IMAGE})",
    )
    m.set_defaults(func=run_manifests)
    d = what.add_parser(
        "dockerfile",
        help="the synclet image's Dockerfile",
        description="Print synclet/Dockerfile. Its build context is what `context` writes.",
    )
    d.set_defaults(func=run_dockerfile)
    c = what.add_parser(
        "context",
        help="the image's build context as a tar, for `docker build -`",
        description=(
            "Write the synclet image's build context (synclet/ and the Dockerfile) as a tar "
            "archive: tilt-lsp synclet context | docker build -t tilt-lsp-synclet:dev -"
        ),
    )
    c.add_argument(
        "--output", "-o", metavar="FILE", default="-", help="write here (default: stdout)"
    )
    c.set_defaults(func=run_context)


def package_root() -> Traversable:
    return resources.files("synclet")


def read_text(*parts: str) -> str:
    node = package_root()
    for part in parts:
        node = node / part
    return node.read_text(encoding="utf-8")


def manifest_names() -> list[str]:
    """synclet/deploy/*.yaml in the order ``kubectl apply -f -`` needs, examples left out."""
    names = sorted(
        n.name
        for n in (package_root() / "deploy").iterdir()
        if n.name.endswith(".yaml") and not n.name.endswith(".example.yaml")
    )
    return sorted(names, key=lambda n: n != FIRST)


def manifests(image: str | None = None) -> str:
    """The manifests as one YAML stream, with the DaemonSet's image replaced if asked."""
    docs: list[str] = []
    for name in manifest_names():
        text = read_text("deploy", name)
        if image is not None and name == "daemonset.yaml":
            text, count = _IMAGE_LINE.subn(lambda m: m.group("indent") + image, text)
            if count != 1:
                raise SystemExit(
                    f"tilt-lsp synclet: expected one image line in daemonset.yaml, found {count}"
                )
        docs.append(text if text.endswith("\n") else text + "\n")
    return "---\n".join(docs)


def _files(node: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name in _SKIP or child.name.endswith(".pyc"):
            continue
        path = f"{prefix}/{child.name}"
        if child.is_dir():
            yield from _files(child, path)
        else:
            yield path, child.read_bytes()


def write_context(out: BinaryIO) -> list[str]:
    """Write the build context as a tar: ``synclet/**`` (the package as installed) and the
    Dockerfile at the top as well, so ``docker build -`` finds it without ``-f``. Fixed
    owners and times: the same package gives the same archive. Returns the member names."""
    members = list(_files(package_root(), "synclet"))
    members.append(("Dockerfile", read_text("Dockerfile").encode()))
    with tarfile.open(fileobj=out, mode="w|") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
    return [name for name, _ in members]


def run_manifests(args: argparse.Namespace) -> int:
    sys.stdout.write(manifests(args.image))
    return 0


def run_dockerfile(args: argparse.Namespace) -> int:
    sys.stdout.write(read_text("Dockerfile"))
    return 0


def run_context(args: argparse.Namespace) -> int:
    if args.output != "-":
        with open(args.output, "wb") as f:
            write_context(f)
        return 0
    if sys.stdout.isatty():
        print(
            "tilt-lsp synclet context: this writes a tar archive; pipe it to docker "
            "(tilt-lsp synclet context | docker build -t tilt-lsp-synclet:dev -) or use -o FILE",
            file=sys.stderr,
        )
        return 2
    sys.stdout.flush()
    write_context(sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0
