"""The bundled multi-service example: compose + live update, a k8s workload, local resources."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli
from tilt_lsp.tiltfile.loader import load_tiltfile

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multi-service"


def test_multi_service_model() -> None:
    model = load_tiltfile(str(EXAMPLE / "Tiltfile"), env={})
    kinds = {r.name: r.kind.value for r in model.resources}
    assert kinds == {"api": "docker_compose", "worker": "k8s", "docs": "local", "lint": "local"}
    api = model.resource("api")
    assert api is not None and api.image_refs == ("shop-api",)
    assert api.resource_deps == ("docs",)
    image = model.image("shop-api")
    assert image is not None and image.live_update is not None
    assert [(s.local_path, s.container_path) for s in image.live_update.syncs] == [
        (str(EXAMPLE / "api"), "/srv/api")
    ]
    assert image.live_update.fall_back_on == (str(EXAMPLE / "api" / "requirements.txt"),)
    assert image.live_update.restart_container
    worker = model.resource("worker")
    assert worker is not None and worker.k8s is not None
    assert [o["kind"] for o in worker.k8s.objects] == ["Deployment", "ConfigMap"]
    # The helper in tools/helpers.star defined the worker image, relative to the Tiltfile.
    worker_image = model.image("shop-worker")
    assert worker_image is not None and worker_image.context == str(EXAMPLE / "worker")
    docs = model.resource("docs")
    assert docs is not None and docs.local is not None and docs.local.serve_cmd is not None
    assert docs.local.readiness_probe is not None and docs.local.readiness_probe.port == 8001
    assert str(EXAMPLE / "tools" / "helpers.star") in model.config_files
    assert model.warnings == ()


def test_resources_json_command_prints_the_model() -> None:
    proc = run_cli("resources", "--json", "--file", str(EXAMPLE / "Tiltfile"))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    by_name = {r["name"]: r for r in data["resources"]}
    assert by_name["worker"]["k8s"]["port_forwards"] == [
        {"local_port": 9000, "container_port": 8080, "host": "localhost"}
    ]
    assert by_name["lint"]["trigger_mode"] == "manual"
    assert by_name["api"]["docker_compose"]["service"] == "api"
    (api_image,) = [i for i in data["images"] if i["ref"] == "shop-api"]
    assert api_image["live_update"]["sync"] == [
        {"local_path": str(EXAMPLE / "api"), "container_path": "/srv/api"}
    ]
    assert api_image["live_update"]["run"][0]["trigger"] == [str(EXAMPLE / "api" / "app.py")]


def test_resources_command_reports_errors_with_location(tmp_path: Path) -> None:
    (tmp_path / "Tiltfile").write_text("x = 1\nhelm('chart')\n")
    proc = run_cli("resources", "--file", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.startswith(
        f"{tmp_path}/Tiltfile:2:1: error: helm(): could not read Helm chart directory"
    )


def test_cli_version_and_help() -> None:
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("tilt-lsp ")
    out = run_cli("--help")
    assert "resources" in out.stdout and "doctor" in out.stdout


def test_doctor_reports_tiltfile_and_engine(tmp_path: Path) -> None:
    (tmp_path / "Tiltfile").write_text("local_resource('a', cmd='true')\n")
    proc = run_cli("doctor", "--file", str(tmp_path))
    assert proc.returncode == 0, proc.stdout
    assert f"[ok ] Tiltfile: {tmp_path}/Tiltfile: 1 resources (local)" in proc.stdout
    assert "Docker engine:" in proc.stdout and "Kubernetes context:" in proc.stdout


def test_doctor_fails_when_the_tiltfile_is_broken(tmp_path: Path) -> None:
    (tmp_path / "Tiltfile").write_text("local_resource('a')\n")
    proc = run_cli("doctor", "--file", str(tmp_path))
    assert proc.returncode == 1
    assert "[ERR] Tiltfile:" in proc.stdout and "must have a cmd and/or a serve_cmd" in proc.stdout
