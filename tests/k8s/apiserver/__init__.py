"""A test double for a Kubernetes API server that speaks the real protocol for the subset
tilt-lsp uses, so the real ``kubernetes`` client (and tilt-lsp through it) can be tested
where no cluster can run.

``FakeCluster`` runs the server on its own event loop in a thread, on 127.0.0.1 and a free
port, with a bearer token, and writes a kubeconfig for it. Its methods are called from the
test's thread and hop onto the server loop. See ``cluster.py`` for what the fake controllers
and kubelet do, and ``server.py`` for the REST, watch, log, exec and port-forward paths.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import os
import secrets
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from aiohttp import web

from .cluster import DEPLOY, PODS, RS, Cluster, pod_ready
from .server import ApiServer
from .store import Obj, Store, parse_label_selector

T = TypeVar("T")


class FakeCluster:
    def __init__(self, workdir: Path, context: str = "tilt-lsp-test", tls: bool = False) -> None:
        self.workdir = workdir
        self.context = context
        self.tls = tls  # HTTPS with a self-signed certificate (needs the openssl CLI)
        self.token = secrets.token_hex(16)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-apiserver", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.store: Store
        self.cluster: Cluster
        self.server: ApiServer

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeCluster:
        self._thread.start()
        self._await(self._start())
        self.kubeconfig = self.workdir / "kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump(self.kubeconfig_dict()))
        return self

    async def _start(self) -> None:
        self.store = Store()
        self.cluster = Cluster(self.store, str(self.workdir / "containers"))
        self.server = ApiServer(self.store, self.cluster, self.token)
        self._runner = web.AppRunner(self.server.app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        ssl_context = None
        if self.tls:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(*self._certificate())
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            self._await(self._shutdown(), timeout=15)
            self._runner = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        # End what streams forever (watches, followed logs) before the runner waits for it.
        self.store.expire_watches(bookmark=False)
        for state in self.cluster.containers.values():
            for book in state.instances:
                book.end()
        assert self._runner is not None
        await self._runner.cleanup()
        me = asyncio.current_task()
        rest = [t for t in asyncio.all_tasks() if t is not me]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    def _certificate(self) -> tuple[str, str]:
        cert, key = self.workdir / "server.crt", self.workdir / "server.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True,
        )
        return str(cert), str(key)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def kubeconfig_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.context, "cluster": self._cluster_entry()}],
            "users": [{"name": "tester", "user": {"token": self.token}}],
            "contexts": [{"name": self.context, "context": {"cluster": self.context, "user": "tester", "namespace": "default"}}],
            "current-context": self.context,
        }

    def _cluster_entry(self) -> dict[str, str]:
        entry = {"server": self.url}
        if self.tls:
            ca = (self.workdir / "server.crt").read_bytes()
            entry["certificate-authority-data"] = base64.b64encode(ca).decode()
        return entry

    # -- hopping onto the server loop -----------------------------------------------------

    def _await(self, coro: Any, timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as err:
                future.set_exception(err)

        self.loop.call_soon_threadsafe(run)
        return future.result(10)

    # -- reading the cluster ----------------------------------------------------------------

    def pods(self, namespace: str = "default", selector: str = "") -> list[Obj]:
        match = parse_label_selector(selector)
        return self.call(lambda: [p for p in self.store.list(PODS, namespace) if match(p)])

    def pod_names(self, namespace: str = "default", selector: str = "") -> list[str]:
        return [p["metadata"]["name"] for p in self.pods(namespace, selector)]

    def get(self, plural: str, name: str, namespace: str = "default") -> Obj | None:
        kind = {"pods": PODS, "replicasets": RS, "deployments": DEPLOY}.get(plural)
        if kind is None:
            from .store import KINDS

            kind = next(k for k in KINDS if k.plural == plural)
        return self.call(self.store.find, kind, namespace, name)

    def wait_pods(self, selector: str = "", count: int = 1, namespace: str = "default", ready: bool = True, timeout: float = 10, exclude: set[str] | None = None) -> list[Obj]:
        deadline = time.monotonic() + timeout
        pods: list[Obj] = []
        while time.monotonic() < deadline:
            pods = [p for p in self.pods(namespace, selector) if p["metadata"]["name"] not in (exclude or set())]
            if len(pods) >= count and (not ready or all(pod_ready(p) for p in pods)):
                return pods
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {count} pods {selector!r}; have {[p['metadata']['name'] for p in pods]}")

    def container_dir(self, pod: str, container: str, namespace: str = "default") -> Path:
        return Path(self.call(lambda: self.cluster.containers[(namespace, pod, container)].fs))

    # -- driving the fake kubelet ---------------------------------------------------------

    def log(self, pod: str, lines: list[str], container: str | None = None, namespace: str = "default") -> None:
        self.call(self.cluster.log, namespace, pod, container, lines)

    def crash(self, pod: str, container: str, exit_code: int, message: str = "", back_off: bool = True, namespace: str = "default") -> None:
        self.call(self.cluster.crash, namespace, pod, container, exit_code, message, "Error", back_off)

    def start_container(self, pod: str, container: str, ready: bool = True, namespace: str = "default") -> None:
        self.call(self.cluster.start_container, namespace, pod, container, ready)

    def set_ready(self, pod: str, container: str, ready: bool, namespace: str = "default") -> None:
        self.call(self.cluster.set_ready, namespace, pod, container, ready)

    def wait_container(self, pod: str, container: str, reason: str, message: str = "", namespace: str = "default") -> None:
        self.call(self.cluster.wait, namespace, pod, container, reason, message)

    def compact(self) -> int:
        """Make every resourceVersion so far too old to watch from (``410 Gone``)."""
        return self.call(self.store.compact)

    def expire_watches(self, bookmark: bool = True) -> None:
        """End every open watch stream, as a server does when a watch times out."""
        self.call(self.store.expire_watches, bookmark)

    def while_watches_are_cut(self, fn: Callable[[], None]) -> None:
        """In one step on the server: end every watch (no bookmark), run ``fn`` (its events
        happen while no watch is open), then compact, so a client that resumes from the
        version it saw last gets 410 Gone and must list again to learn what happened."""
        def step() -> None:
            self.store.expire_watches(bookmark=False)
            fn()
            self.store.compact()

        self.call(step)

    def set(self, **settings: Any) -> None:
        """Change cluster behaviour: ``auto_ready``, ``start_delay``, ``no_tar_images``,
        ``port_targets``, ``startup_logs``."""
        def apply() -> None:
            for key, value in settings.items():
                setattr(self.cluster, key, value)

        self.call(apply)

    @property
    def requests(self) -> list[tuple[str, str]]:
        return self.call(lambda: list(self.server.requests))


def run_forever(port_file: str | None = None) -> None:  # pragma: no cover - manual use
    """``python -m tests.k8s.apiserver``: serve until interrupted, print the kubeconfig path."""
    import tempfile

    fake = FakeCluster(Path(tempfile.mkdtemp(prefix="fake-k8s-"))).start()
    print(f"KUBECONFIG={fake.kubeconfig}", flush=True)
    if port_file:
        Path(port_file).write_text(str(fake.port))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
        os._exit(0)
