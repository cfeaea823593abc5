"""``tilt-lsp synclet``: what it prints and writes (the installed-wheel case is test_wheel.py)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

from tests.support import run_cli

REPO = Path(__file__).resolve().parents[2]


def _deploy_docs() -> list[dict[str, object]]:
    """Every object of synclet/deploy/*.yaml but the example Secret, read from the checkout."""
    out: list[dict[str, object]] = []
    for path in sorted((REPO / "synclet" / "deploy").glob("*.yaml")):
        if not path.name.endswith(".example.yaml"):
            out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def _key(doc: dict[str, object]) -> tuple[str, str]:
    meta = doc["metadata"]
    assert isinstance(meta, dict)
    return str(doc["kind"]), str(meta["name"])


def test_manifests_are_the_deploy_files_namespace_first() -> None:
    proc = run_cli("synclet", "manifests")
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert _key(docs[0]) == ("Namespace", "tilt-lsp-system")
    assert sorted(map(_key, docs)) == sorted(map(_key, _deploy_docs()))
    (daemonset,) = [d for d in docs if d["kind"] == "DaemonSet"]
    containers = daemonset["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["tilt-lsp-synclet:dev"]
    # The Secret example holds a placeholder token: never part of what gets applied.
    assert "Secret" not in [d["kind"] for d in docs]


def test_manifests_image_is_the_one_asked_for() -> None:
    proc = run_cli("synclet", "manifests", "--image", "registry.example.com/synclet:7")
    (daemonset,) = [d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "DaemonSet"]
    containers = daemonset["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["registry.example.com/synclet:7"]


def test_context_writes_the_package_and_the_dockerfile(tmp_path: Path) -> None:
    out = tmp_path / "ctx.tar"
    proc = run_cli("synclet", "context", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        dockerfile = tar.extractfile("Dockerfile")
        assert dockerfile is not None
        assert dockerfile.read() == (REPO / "synclet" / "Dockerfile").read_bytes()
    for name in ("synclet/__main__.py", "synclet/server.py", "synclet/requirements.txt"):
        assert name in members
    assert members["synclet/restart-wrapper.sh"].mode == 0o755
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in members)
    # The same package gives the same archive (Docker's build cache keys on it).
    again = tmp_path / "again.tar"
    run_cli("synclet", "context", "-o", str(again))
    assert again.read_bytes() == out.read_bytes()


def test_context_refuses_to_write_a_tar_to_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tilt_lsp", "synclet", "context"],
            stdout=follower,
            stderr=subprocess.PIPE,
            timeout=30,
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert b"| docker build -t tilt-lsp-synclet:dev -" in proc.stderr


def test_dockerfile_is_the_packaged_one() -> None:
    proc = run_cli("synclet", "dockerfile")
    assert proc.stdout == (REPO / "synclet" / "Dockerfile").read_text()
