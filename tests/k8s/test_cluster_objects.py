"""The real-cluster layer, part 2: what the API server, the scheduler and RBAC say.

A Job redeployed after a code change (its pod template is immutable: delete and re-create),
a pod no node can take (the scheduler's message), a user without rights (the refusal on the
resource's line), and the synclet DaemonSet where the node's runtime allows it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.k8s.cluster_support import Project
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus

pytestmark = pytest.mark.cluster

JOB_APP = 'print("job says " + open("/app/message.txt").read().strip(), flush=True)\n'

JOB_DOCKERFILE = """\
ARG BASE=python:3.12-slim
FROM $BASE
WORKDIR /app
COPY . /app
CMD ["python3", "job.py"]
"""

JOB_K8S = """\
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate, namespace: {ns}}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: job
        image: tilt-lsp-test/cluster-job
"""

JOB_TILTFILE = """\
docker_build('tilt-lsp-test/cluster-job', '.', build_args={{'BASE': '{base}'}})
k8s_yaml('k8s.yaml')
k8s_resource('migrate')
"""


async def test_a_job_is_redeployed_after_a_code_change(project: Project) -> None:
    project.write("job.py", JOB_APP)
    project.write("message.txt", "v1\n")
    project.write("Dockerfile", JOB_DOCKERFILE)
    project.write("k8s.yaml", JOB_K8S.format(ns=project.namespace))
    project.tiltfile(JOB_TILTFILE.format(base=project.base))
    engine = await project.start()
    await project.until(
        "migrate",
        lambda: (
            "job says v1" in project.log("migrate")
            and project.status("migrate").runtime is RuntimeStatus.EXITED
        ),
        240,
        "the job ran to completion",
    )
    engine.files_changed([str(project.write("message.txt", "v2\n"))])
    await project.until(
        "migrate",
        lambda: (
            "job says v2" in project.log("migrate")
            and project.status("migrate").runtime is RuntimeStatus.EXITED
        ),
        180,
        "the job re-created and run with the new image",
    )
    log = project.log("migrate")
    assert "field is immutable; deleting it and creating it again" in log
    assert "PodTemplateSpec{" not in log  # the API server's message, not its struct dump
    assert project.status("migrate").build is BuildStatus.OK


UNSCHEDULABLE_K8S = """\
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: nowhere, namespace: {ns}}}
spec:
  selector:
    matchLabels: {{app: nowhere}}
  template:
    metadata:
      labels: {{app: nowhere}}
    spec:
      nodeSelector: {{tilt-lsp-test/no-such-node: "true"}}
      containers:
      - name: app
        image: localhost:5000/tilt-lsp-test/never-pulled:1
"""


async def test_an_unschedulable_pod_is_an_error_with_the_schedulers_message(
    project: Project,
) -> None:
    project.write("k8s.yaml", UNSCHEDULABLE_K8S.format(ns=project.namespace))
    project.tiltfile("k8s_yaml('k8s.yaml')\nk8s_resource('nowhere')\n")
    await project.start()
    error = await project.until(
        "nowhere",
        lambda: (
            project.status("nowhere").runtime is RuntimeStatus.CRASHED
            and project.status("nowhere").last_error
        ),
        60,
        "the scheduler's refusal",
    )
    assert "cannot be scheduled (Unschedulable)" in error
    assert "0/1 nodes are available" in error
    assert "node affinity/selector" in error or "didn't match" in error


RBAC_K8S = """\
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: {ns}}}
data: {{a: b}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: localhost:5000/tilt-lsp-test/never-pulled:1
"""


async def test_a_user_without_rights_sees_the_refusal_on_the_resource_line(
    project: Project,
) -> None:
    dev = os.environ.get("TILT_LSP_CLUSTER_DEV_KUBECONFIG") or str(
        Path(project.kubeconfig).parent / "dev.kubeconfig"
    )
    if not os.path.exists(dev):
        pytest.skip(
            f"no kubeconfig of a user without rights at {dev} (set TILT_LSP_CLUSTER_DEV_KUBECONFIG)"
        )
    from kubernetes import config

    _, current = config.list_kube_config_contexts(config_file=dev)
    project.context = str(current["name"])  # allow_k8s_contexts for the dev context
    project.write("k8s.yaml", RBAC_K8S.format(ns=project.namespace))
    project.tiltfile("k8s_yaml('k8s.yaml')\nk8s_resource('web', objects=['settings'])\n")
    engine = await project.start(env={"KUBECONFIG": dev})
    error = await project.until(
        "web",
        lambda: (
            project.status("web").build is BuildStatus.ERROR and project.status("web").last_error
        ),
        60,
        "the RBAC refusal",
    )
    assert "forbidden" in error and "cannot patch resource" in error, error
    tiltfile = str(project.root / "Tiltfile")
    line = (
        project.root.joinpath("Tiltfile")
        .read_text()
        .splitlines()
        .index("k8s_resource('web', objects=['settings'])")
        + 1
    )
    problems = [p for p in engine.problems.for_resource("web") if p.path == tiltfile]
    assert any(p.line == line and "forbidden" in p.message for p in problems), problems


async def test_the_synclet_daemonset_path_needs_a_docker_runtime_node(project: Project) -> None:
    nodes = project.api().nodes()
    runtimes = {
        str((n.get("status") or {}).get("nodeInfo", {}).get("containerRuntimeVersion"))
        for n in nodes
    }
    if not any(r.startswith("docker://") for r in runtimes):
        pytest.skip(
            f"the synclet DaemonSet applies updates through a node's Docker engine; this "
            f"cluster's nodes run {', '.join(sorted(runtimes))}, so live updates go by exec "
            "(covered above)"
        )
    pytest.fail("a Docker-runtime node: the synclet DaemonSet scenario is not written yet")
