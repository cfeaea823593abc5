"""Image builds for Kubernetes resources: build with the Docker engine (the Docker room's
``ImageBuilder``), then deliver the image where the cluster can see it (``images.py``).
Behind a Protocol so the Kubernetes runtime can be tested without a Docker engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tilt_lsp.runtime.k8s.images import Delivery, deliver
from tilt_lsp.tiltfile.model import ImageBuild

LineSink = Callable[[str], None]
RESTART_SIGNAL_LABEL = "dev.tilt-lsp.restart-signal"  # set by the image builder with the wrapper


class ImageBuilds(Protocol):
    """Blocking: called from a worker thread."""

    def build(
        self, image: ImageBuild, changed: frozenset[str] | None, force: bool, on_line: LineSink
    ) -> str:
        """Build ``image`` and return the built ref; raises ``BuildError``. ``changed``: the
        changed files in the image's context (None: scan the whole context)."""
        ...

    def deliver(self, delivery: Delivery, ref: str, on_line: LineSink) -> str:
        """Make ``ref`` visible to the cluster; returns the ref pods must use."""
        ...

    def restart_signal(self, ref: str) -> str:
        """The signal the built image's restart wrapper restarts the app on (its
        ``dev.tilt-lsp.restart-signal`` label), or ""."""
        ...


class DockerImageBuilds:
    def __init__(self, root: str, resource: str, env: Mapping[str, str]) -> None:
        self.root = root
        self.resource = resource
        self.env = dict(env)
        self._api: Any = None
        self._builders: dict[str, Any] = {}

    def _docker(self) -> Any:
        if self._api is None:
            import docker

            from tilt_lsp.build.builder import BuildError

            try:
                self._api = docker.APIClient(
                    base_url=self.env.get("DOCKER_HOST") or None, version="auto"
                )
            except Exception as err:
                raise BuildError(f"cannot reach the Docker engine to build images: {err}") from None
        return self._api

    def build(
        self, image: ImageBuild, changed: frozenset[str] | None, force: bool, on_line: LineSink
    ) -> str:
        from tilt_lsp.build.builder import BuildError
        from tilt_lsp.build.custom import image_builder
        from tilt_lsp.build.labels import managed_labels

        builder = self._builders.get(image.ref)
        if builder is None:
            labels = managed_labels(self.root, **{"dev.tilt-lsp.resource": self.resource})
            builder = self._builders[image.ref] = image_builder(image, self._docker(), labels)
        try:
            built = builder.build(None if changed is None else list(changed), on_line, force=force)
        except BuildError:
            builder.remove_leftovers()  # what the failed build left, never anything else
            raise
        # Earlier builds of this image and resource (by our labels): an image a container
        # still runs stays (Docker refuses), and goes with a later build.
        removed = builder.cleanup([built.image_id])
        if removed:
            on_line(
                f"removed {len(removed)} earlier build{'s' if len(removed) != 1 else ''} of {image.repository}"
            )
        return str(built.ref)

    def restart_signal(self, ref: str) -> str:
        try:
            labels = (self._docker().inspect_image(ref).get("Config") or {}).get("Labels") or {}
        except Exception:
            return ""
        return str(labels.get(RESTART_SIGNAL_LABEL) or "")

    def deliver(self, delivery: Delivery, ref: str, on_line: LineSink) -> str:
        return deliver(
            delivery, ref, self._docker() if delivery.method == "registry" else None, on_line
        )
