"""Fixtures for the Kubernetes tests: a fake API server per test, and the real-cluster layer.

``fake`` starts ``tests.k8s.apiserver.FakeCluster`` (the real protocol on 127.0.0.1) and
gives its kubeconfig; ``real_kubeconfig`` is for ``@pytest.mark.cluster`` tests and skips
unless ``KUBECONFIG`` names a reachable cluster.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.k8s.apiserver import FakeCluster
from tests.k8s.cluster_support import project  # noqa: F401  (the real-cluster fixture)
from tests.k8s.runtime_support import setup  # noqa: F401  (the runtime fixture on the fake)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeCluster]:
    cluster = FakeCluster(tmp_path / "cluster")
    (tmp_path / "cluster").mkdir()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def real_kubeconfig() -> str:
    path = os.environ.get("KUBECONFIG", "")
    if not path or not os.path.exists(path.split(os.pathsep)[0]):
        pytest.skip(
            "needs a real cluster: set KUBECONFIG to a kubeconfig whose current context is a cluster you may deploy to"
        )
    from kubernetes import client, config

    try:
        api = config.new_client_from_config(config_file=path.split(os.pathsep)[0])
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception as err:
        pytest.skip(f"KUBECONFIG={path} names no reachable cluster: {err}")
    return path.split(os.pathsep)[0]
