"""Shared pytest fixtures.

Docker
------
Tests that need a real engine carry ``@pytest.mark.docker`` (declared in
pyproject.toml). For them, an unreachable engine or a missing base image is a
*failure* when ``CI`` is set or ``TILT_LSP_REQUIRE_DOCKER=1`` (``scripts/test``
exports it), and a skip with a clear reason otherwise.

* ``docker_client``   session-wide ``docker.DockerClient`` (pinged).
* ``base_image``      tag of the offline base image (``TILT_LSP_TEST_BASE_IMAGE``,
                      built by ``scripts/base-image``): python3, sh and tar, no registry.
* ``docker_resources`` per-test tracker: pass ``docker_resources.labels`` to
                      everything you create (images, containers, networks, volumes)
                      and ``track_*`` the ids; they are removed after the test.
                      Whatever still carries this session's label is removed at the
                      end of the session. Nothing else is ever pruned.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

# Captured tool outputs (tests/data) include the test files the real tools ran: they are data,
# not tests of ours.
collect_ignore = ["data"]

TEST_LABEL = "dev.tilt-lsp.test"
SESSION_LABEL = "dev.tilt-lsp.test.session"
SESSION_ID = uuid.uuid4().hex[:12]
DEFAULT_BASE_IMAGE = "tilt-lsp-test-base:bookworm-py3"


def docker_test_labels() -> dict[str, str]:
    """Labels to put on every Docker object a test creates."""
    return {TEST_LABEL: "1", SESSION_LABEL: SESSION_ID}


def docker_required() -> bool:
    ci = os.environ.get("CI", "").strip().lower()
    return ci not in ("", "0", "false", "no") or os.environ.get("TILT_LSP_REQUIRE_DOCKER") == "1"


def _unavailable(reason: str) -> None:
    """Fail when Docker is required here, skip otherwise."""
    if docker_required():
        pytest.fail(
            f"{reason} (Docker is required because CI or TILT_LSP_REQUIRE_DOCKER=1 is set; "
            "./scripts/test installs and starts the engine and builds the base image)",
            pytrace=False,
        )
    pytest.skip(f"{reason} (set TILT_LSP_REQUIRE_DOCKER=1 to make this a failure)")


def _remove_labelled(client: Any, filters: dict[str, Any]) -> None:
    """Remove containers, then images, networks and volumes matching ``filters``."""
    for c in client.containers.list(all=True, filters=filters):
        with contextlib.suppress(Exception):
            c.remove(force=True, v=True)
    for img in client.images.list(filters=filters):
        with contextlib.suppress(Exception):
            client.images.remove(img.id, force=True)
    for net in client.networks.list(filters=filters):
        with contextlib.suppress(Exception):
            net.remove()
    for vol in client.volumes.list(filters=filters):
        with contextlib.suppress(Exception):
            vol.remove(force=True)


_docker_error: str | None = None


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    global _docker_error
    if _docker_error is not None:
        _unavailable(_docker_error)
    import docker

    client = None
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        _docker_error = f"Docker engine unreachable at {host}: {exc}"
    if _docker_error is not None or client is None:
        _unavailable(_docker_error or "Docker engine unreachable")
    try:
        yield client
    finally:
        _remove_labelled(client, {"label": [f"{SESSION_LABEL}={SESSION_ID}"]})
        client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: Any) -> str:
    import docker.errors

    tag = os.environ.get("TILT_LSP_TEST_BASE_IMAGE", DEFAULT_BASE_IMAGE)
    try:
        docker_client.images.get(tag)
    except docker.errors.ImageNotFound:
        _unavailable(f"offline base image {tag!r} not found; build it with scripts/base-image")
    return tag


class DockerResources:
    """Tracks what one test created, and removes exactly that afterwards."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.labels = docker_test_labels()
        self.containers: list[str] = []
        self.images: list[str] = []
        self.networks: list[str] = []

    def track_container(self, container: Any) -> Any:
        self.containers.append(getattr(container, "id", container))
        return container

    def track_image(self, image: Any) -> Any:
        self.images.append(getattr(image, "id", image))
        return image

    def track_network(self, network: Any) -> Any:
        self.networks.append(getattr(network, "id", network))
        return network

    def cleanup(self) -> None:
        import docker.errors

        for cid in reversed(self.containers):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(cid, force=True, v=True)
        for nid in reversed(self.networks):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_network(nid)
        for iid in reversed(self.images):
            # Removing the image also removes its untagged parents (legacy builder).
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                self.client.images.remove(iid, force=True)


@pytest.fixture
def docker_resources(docker_client: Any) -> Iterator[DockerResources]:
    res = DockerResources(docker_client)
    try:
        yield res
    finally:
        res.cleanup()


@pytest.fixture(autouse=True)
def _docker_marker(request: pytest.FixtureRequest) -> None:
    """Tests marked ``docker`` skip or fail up front when the engine is unreachable."""
    if request.node.get_closest_marker("docker") is not None:
        request.getfixturevalue("docker_client")
