"""Is the cluster usable? The Kubernetes part of ``tilt-lsp doctor``: the kubeconfig, the
API server (its version, within a few seconds), and what the user may do there (a
SelfSubjectAccessReview per right live update and deploys need). Parsing the kubeconfig
alone says nothing about a cluster that is down or a user without rights."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tilt_lsp.runtime.k8s.api import KubeApi, KubeError, kubeconfig_path

TIMEOUT_S = 5

# (verb, group, resource, subresource): what a Tiltfile's dev loop needs in its namespace.
RIGHTS = (
    ("patch", "apps", "deployments", ""),
    ("list", "", "pods", ""),
    ("create", "", "pods", "exec"),
)


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check(env: Mapping[str, str], timeout: float = TIMEOUT_S) -> list[Finding]:
    try:
        api = KubeApi(env)
    except KubeError as err:
        return [
            Finding(
                "Kubernetes context",
                False,
                err.message,
                "set KUBECONFIG or create ~/.kube/config (kind, minikube, k3d, Docker Desktop)",
            )
        ]
    found = [
        Finding("Kubernetes context", True, f"context {api.context!r} in {kubeconfig_path(env)}")
    ]
    # One try (urllib3 would try 4 times): an unreachable server is said in seconds.
    pools = getattr(getattr(api.client, "rest_client", None), "pool_manager", None)
    if pools is not None:
        pools.connection_pool_kw["retries"] = 0
    try:
        version = api.version(timeout)
    except KubeError as err:
        if err.status in (401, 403):
            found.append(
                Finding(
                    "Kubernetes API server",
                    False,
                    f"{api.server} refused the credentials of context {api.context!r}: {err.message}",
                    "renew the credentials (e.g. re-run your cloud's get-credentials command)",
                )
            )
        elif err.status:
            found.append(
                Finding(
                    "Kubernetes API server",
                    False,
                    f"{api.server} answered GET /version with {err.status} ({err.message}): "
                    "not a Kubernetes API server?",
                    f"check the server address of context {api.context!r} in the kubeconfig",
                )
            )
        else:
            found.append(
                Finding(
                    "Kubernetes API server",
                    False,
                    err.message,
                    f"start the cluster of context {api.context!r}, or switch context "
                    "(kubectl config use-context NAME)",
                )
            )
        return found
    found.append(
        Finding(
            "Kubernetes API server",
            True,
            f"{api.server} answers: Kubernetes {version.get('gitVersion', '?')}",
        )
    )
    missing = []
    try:
        for verb, group, resource, sub in RIGHTS:
            if not api.can_i(verb, group, resource, sub, api.namespace, timeout):
                missing.append(f"{verb} {resource}{'/' + sub if sub else ''}")
    except KubeError as err:
        found.append(Finding("Kubernetes permissions", False, f"cannot ask: {err.message}"))
        return found
    if missing:
        found.append(
            Finding(
                "Kubernetes permissions",
                False,
                f"in namespace {api.namespace!r} you may not: {', '.join(missing)}",
                "ask for the Role in docs/kubernetes.md (Permissions), or use a context that has it",
            )
        )
    else:
        rights = ", ".join(f"{v} {r}{'/' + s if s else ''}" for v, _, r, s in RIGHTS)
        found.append(
            Finding("Kubernetes permissions", True, f"namespace {api.namespace!r}: {rights}")
        )
    return found
