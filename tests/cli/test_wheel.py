"""A plain ``pip install`` of the built wheel (not an editable checkout) can print the synclet's
DaemonSet and build the synclet image from what the installed package ships.

The wheel is built from a copy of the sources (an in-tree build would write ``build/`` and
``*.egg-info`` into the checkout) and installed with ``--no-deps --no-index`` into a fresh venv
outside the checkout; that venv sees the dependencies through a ``.pth`` line naming this
interpreter's site-packages (no PyPI here). Commands run from a temporary directory, so
nothing can be imported from the checkout.

The image build is offline: the base is the offline test image (``BASE_IMAGE`` build arg, as
tests/synclet/test_image.py does), and the requirements are vendored into the context the
installed command wrote (the Dockerfile's documented offline path).
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.synclet.test_image import _vendor

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "tilt_lsp", "synclet")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    workdir: Path

    def run(self, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(self.venv / "bin" / "tilt-lsp"), *args],
            cwd=self.workdir,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=60,
            check=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("wheel17")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "_vendor")
            )
        else:
            shutil.copy2(REPO / name, src / name)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(src), "--no-deps", "-w", str(dist)], check=True, timeout=120)
    (wheel,) = dist.glob("tilt_lsp-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(
        subprocess.check_output(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ],
            text=True,
        ).strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_tilt_lsp_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )  # fmt: skip
    work = tmp / "work"
    work.mkdir()
    yield Installed(wheel, venv, work)


def test_the_wheel_ships_the_synclet_files_and_the_license(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for data in (
        "synclet/Dockerfile",
        "synclet/Dockerfile.dockerignore",
        "synclet/requirements.txt",
        "synclet/restart-wrapper.sh",
        "synclet/deploy/daemonset.yaml",
        "synclet/deploy/namespace.yaml",
        "synclet/deploy/rbac.yaml",
    ):
        assert data in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    out = subprocess.check_output(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import tilt_lsp, synclet; print(tilt_lsp.__file__); print(synclet.__file__)",
        ],
        cwd=installed.workdir,
        text=True,
    )
    for line in out.splitlines():
        assert line.startswith(str(installed.venv)), out


def test_installed_tilt_lsp_prints_the_daemonset(installed: Installed) -> None:
    out = installed.run("synclet", "manifests", "--image", "registry.example/synclet:1").stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert docs[0]["kind"] == "Namespace"
    assert {"Role", "RoleBinding", "DaemonSet"} <= {d["kind"] for d in docs}
    (daemonset,) = [d for d in docs if d["kind"] == "DaemonSet"]
    (container,) = daemonset["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/synclet:1"
    assert daemonset["metadata"]["namespace"] == "tilt-lsp-system"
    dockerfile = installed.run("synclet", "dockerfile").stdout.decode()
    assert dockerfile == (REPO / "synclet" / "Dockerfile").read_text()


@pytest.mark.docker
def test_installed_tilt_lsp_builds_the_synclet_image(
    installed: Installed, docker_client: Any, base_image: str, docker_resources: Any
) -> None:
    archive = installed.run("synclet", "context").stdout
    ctx = installed.workdir / "ctx"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(ctx, filter="data")
    assert os.access(ctx / "synclet" / "restart-wrapper.sh", os.X_OK)
    assert (ctx / "Dockerfile").read_text() == (ctx / "synclet" / "Dockerfile").read_text()
    _vendor(ctx / "synclet" / "_vendor")  # no PyPI here: the Dockerfile's offline path
    image, _ = docker_client.images.build(
        path=str(ctx),
        buildargs={"BASE_IMAGE": base_image},
        labels=docker_resources.labels,
        rm=True,
        forcerm=True,
    )
    docker_resources.track_image(image)
    token = installed.workdir / "token"
    token.write_text(secrets.token_urlsafe(32) + "\n")
    token.chmod(0o600)
    container = docker_resources.track_container(
        docker_client.containers.run(
            image.id,
            detach=True,
            labels=docker_resources.labels,
            volumes={str(token): {"bind": "/run/secrets/synclet-token", "mode": "ro"}},
        )
    )
    deadline = time.monotonic() + 30
    logs = b""
    while b"synclet listening on http://127.0.0.1:8790" not in logs:  # the image's CMD
        assert time.monotonic() < deadline, logs.decode(errors="replace")
        time.sleep(0.2)
        logs = container.logs()
