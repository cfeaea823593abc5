"""``k8s_custom_deploy`` (and so ``ext://helm_resource``): the user's ``apply_cmd`` deploys and
prints the YAML of what it deployed, as in Tilt. tilt-lsp then follows the pods of the
workload it printed, selected by the workload's own pod selector (the command's objects do not
carry tilt-lsp's labels).

The command gets ``TILT_IMAGE_<i>`` (the built ref of ``image_deps[i]``, as delivered to the
cluster) and ``TILT_IMAGE_MAP_<i>`` (the image's name), plus ``apply_env``, in ``apply_dir``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tilt_lsp.tiltfile import k8s
from tilt_lsp.tiltfile.model import CustomDeploy

APPLY_TIMEOUT_S = 600
Obj = dict[str, Any]


class CustomDeployError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def apply_env(deploy: CustomDeploy, refs: Sequence[str], base: Mapping[str, str]) -> dict[str, str]:
    env = {**base, **deploy.apply_env}
    for i, (name, ref) in enumerate(zip(deploy.image_deps, refs, strict=True)):
        env[f"TILT_IMAGE_{i}"] = ref
        env[f"TILT_IMAGE_MAP_{i}"] = name
    return env


def run_apply(
    deploy: CustomDeploy,
    refs: Sequence[str],
    base_env: Mapping[str, str],
    on_line: Callable[[str], None],
) -> list[Obj]:
    """Run apply_cmd; its stderr goes to the log, its stdout is the applied YAML."""
    env = apply_env(deploy, refs, {**os.environ, **base_env})
    on_line(f"k8s_custom_deploy: running {deploy.apply_cmd.display}")
    try:
        proc = subprocess.run(
            list(deploy.apply_cmd.argv),
            cwd=deploy.apply_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=APPLY_TIMEOUT_S,
        )
    except OSError as err:
        raise CustomDeployError(
            f"apply_cmd cannot run {deploy.apply_cmd.argv[0]!r}: {err.strerror}"
        ) from None
    except subprocess.TimeoutExpired:
        raise CustomDeployError(f"apply_cmd did not finish within {APPLY_TIMEOUT_S}s") from None
    for line in proc.stderr.splitlines():
        on_line(line)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise CustomDeployError(f"apply_cmd failed with exit code {proc.returncode}: {tail[0]}")
    try:
        return k8s.parse_objects(proc.stdout, "apply_cmd's output")
    except k8s.K8sYamlError as err:
        raise CustomDeployError(
            f"{err} (apply_cmd must print the YAML of the objects it applied, as in Tilt)"
        ) from None


def pod_selector(workload: Mapping[str, Any]) -> str:
    """A label selector for the workload's pods: its matchLabels, else its template labels."""
    spec = workload.get("spec") or {}
    labels = ((spec.get("selector") or {}).get("matchLabels")) or k8s.pod_template_labels(workload)
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
