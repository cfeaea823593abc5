"""``port_forwards=``: a local listener per forward; each accepted connection gets its own
port-forward stream (the ``kubernetes`` client's websocket ``portforward``) to a current
ready pod, and bytes are copied both ways. Threads, because the client is synchronous."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from tilt_lsp.runtime.k8s.api import KubeApi
from tilt_lsp.tiltfile.model import PortForward

PodPicker = Callable[[], str | None]


def pipe(a: Any, b: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes."""
    socks = [a, b]
    try:
        while not stop.is_set():
            readable, _, _ = select.select(socks, [], [], 0.5)
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return


class PortForwarder:
    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        forward: PortForward,
        pick_pod: PodPicker,
        on_note: Callable[[str], None],
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.forward = forward
        self.pick_pod = pick_pod
        self.on_note = on_note
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.port = forward.local_port  # the port listened on (a free one for local_port 0)

    def start(self) -> None:
        host = self.forward.host or "localhost"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1" if host == "localhost" else host, self.forward.local_port))
        sock.listen(16)
        self.port = int(sock.getsockname()[1])
        self._listener = sock
        threading.Thread(
            target=self._accept, daemon=True, name=f"port-forward:{self.forward.local_port}"
        ).start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        from kubernetes import client, stream

        with contextlib.closing(conn):
            pod = self.pick_pod()
            if pod is None:
                self.on_note(
                    f"port-forward {self.forward.local_port}: no ready pod to forward to yet"
                )
                return
            port = self.forward.container_port
            try:
                pf = stream.portforward(
                    client.CoreV1Api(self.api.client).connect_get_namespaced_pod_portforward,
                    pod,
                    self.namespace,
                    ports=str(port),
                )
                remote = pf.socket(port)
                remote.setblocking(True)
            except Exception as err:
                self.on_note(
                    f"port-forward {self.forward.local_port} -> {pod}:{port} failed: {err}"
                )
                return
            try:
                pipe(conn, remote, self._stop)
            finally:
                with contextlib.suppress(Exception):
                    remote.close()
                error = pf.error(port)
                if error:
                    self.on_note(
                        f"port-forward {self.forward.local_port} -> {pod}:{port}: {error.strip()}"
                    )

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
