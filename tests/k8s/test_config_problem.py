"""A missing or broken kubeconfig is named as what it is, on the resource's Tiltfile line:
not "build failed" (nothing was built)."""

from __future__ import annotations

from pathlib import Path

from tests.support import until
from tilt_lsp.engine.engine import Engine
from tilt_lsp.engine.status import BuildStatus

K8S = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"


async def test_a_missing_kubeconfig_is_a_kubernetes_config_problem(tmp_path: Path) -> None:
    (tmp_path / "k8s.yaml").write_text(K8S)
    (tmp_path / "Tiltfile").write_text(
        "k8s_yaml('k8s.yaml')\nk8s_resource(new_name='settings', objects=['settings'])\n"
    )
    missing = tmp_path / "no-kubeconfig"
    engine = Engine(
        str(tmp_path / "Tiltfile"), env={"KUBECONFIG": str(missing), "PATH": "/usr/bin:/bin"}
    )
    await engine.start()
    try:
        await until(
            lambda: (
                "settings" in engine.statuses
                and engine.statuses["settings"].build is BuildStatus.ERROR
            ),
            30,
            "the config problem",
        )
        problems = [p for p in engine.problems.for_resource("settings") if p.source == "tilt"]
        (problem,) = problems
        assert problem.path == str(tmp_path / "Tiltfile") and problem.line == 2
        assert problem.message.startswith("resource 'settings' has a Kubernetes config problem: ")
        assert f"no usable kubeconfig at {missing}" in problem.message
        assert "set KUBECONFIG" in problem.message
        assert "build failed" not in problem.message
    finally:
        await engine.stop()
