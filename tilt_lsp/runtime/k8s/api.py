"""The cluster, as tilt-lsp talks to it: a thin synchronous layer over the ``kubernetes``
client that works on raw JSON (dicts), not generated models, so an object of any shape
round-trips unchanged. Every method blocks: callers run them in threads.

Errors carry data (``KubeError(status, reason, message)``) and are put in plain words at
the edge (``controller.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tilt_lsp.runtime.k8s.objects import FIELD_MANAGER, Obj, object_path

CHANNEL_STDIN, CHANNEL_STDOUT, CHANNEL_STDERR, CHANNEL_ERROR = 0, 1, 2, 3


class KubeError(Exception):
    """A request the cluster refused or could not answer."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


def _error(err: Exception, server: str = "") -> KubeError:
    status = int(getattr(err, "status", 0) or 0)
    body = getattr(err, "body", None)
    reason = str(getattr(err, "reason", "") or "")
    message = str(err)
    if body:
        try:
            data = json.loads(body)
            message = status_message(data) or message
            reason = str(data.get("reason") or reason)
        except (ValueError, AttributeError):
            message = str(body)[:500]
    elif status == 0:
        text = str(reason or err)
        # urllib3 wraps the cause in layers of repr: keep the last, human part.
        for marker in ("Failed to establish a new connection: ", "Caused by ", "Handshake status "):
            if marker in text:
                text = text.rsplit(marker, 1)[1].rstrip("')\"")
                break
        message = f"cannot reach the cluster{f' at {server}' if server else ''}: {text}"
    return KubeError(status, reason, message)


def _error_from_response(status: int, reason: str, body: bytes) -> KubeError:
    message = body.decode("utf-8", "replace")[:500] or reason
    try:
        data = json.loads(body)
        message = status_message(data) or message
        reason = str(data.get("reason") or reason)
    except (ValueError, AttributeError):
        pass
    return KubeError(status, reason, message)


_DUMP = re.compile(r"Invalid value: .*?: (?=[a-z][^:{}]*$)", re.S)


def status_message(data: Mapping[str, Any]) -> str:
    """A ``Status``'s message without the Go struct dumps the API server puts in some of them
    (``spec.template: Invalid value: core.PodTemplateSpec{ObjectMeta:…}: field is
    immutable``): each cause as ``field: what``."""
    message = str(data.get("message") or "")
    causes = (data.get("details") or {}).get("causes") or []
    if data.get("reason") == "Invalid" and causes:
        parts = []
        for cause in causes:
            text = str(cause.get("message") or cause.get("reason") or "")
            text = _DUMP.sub("", text) if len(text) > 200 else text
            field = str(cause.get("field") or "")
            parts.append(f"{field}: {text}" if field and not text.startswith(field) else text)
        head = message.split(": ", 1)[0] if " is invalid" in message else ""
        return f"{head}: {'; '.join(parts)}" if head else "; ".join(parts)
    if len(message) > 500:
        message = _DUMP.sub("", message)
    return message


@dataclass(frozen=True, slots=True)
class ExecResult:
    exit_code: int
    stdout: bytes
    stderr: bytes
    error: str = ""  # a failure to run the command at all (not found, not permitted…)


def kubeconfig_path(env: Mapping[str, str]) -> str:
    return env.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


class KubeApi:
    """One cluster (one kubeconfig context)."""

    def __init__(self, env: Mapping[str, str], context: str | None = None) -> None:
        from kubernetes import config

        self.kubeconfig = kubeconfig_path(env)
        try:
            contexts, current = config.list_kube_config_contexts(config_file=self.kubeconfig)  # type: ignore[no-untyped-call]
            chosen = (
                next((c for c in contexts if c["name"] == context), current) if context else current
            )
            self.context = str(chosen["name"])
            self.namespace = str((chosen.get("context") or {}).get("namespace") or "default")
            self.client: Any = config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=self.kubeconfig, context=self.context, persist_config=False
            )
        except Exception as err:
            raise KubeError(
                0, "NoConfig", f"no usable kubeconfig at {self.kubeconfig}: {err}"
            ) from None
        self.server = str(self.client.configuration.host)

    # -- plumbing ---------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        content_type: str | None = None,
        stream: bool = False,
        timeout: Any = None,
    ) -> Any:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            method, url, headers, body, _post = self.client.param_serialize(
                method,
                path,
                query_params=query or [],
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            resp = self.client.call_api(method, url, headers, body, _request_timeout=timeout)
        except Exception as err:
            raise _error(err, self.server) from None
        if not 200 <= resp.status <= 299:
            raise _error_from_response(resp.status, resp.reason, resp.read())
        if stream:
            return resp.response
        data = resp.read()
        return json.loads(data) if data else {}

    # -- objects ----------------------------------------------------------------------------

    def apply(self, obj: Obj) -> Obj:
        """Server-side apply as field manager ``tilt-lsp``, taking over conflicting fields
        (the Tiltfile is the source of truth, as with ``kubectl apply --server-side --force-conflicts``)."""
        path = object_path(obj, self.namespace)
        result: Obj = self._call(
            "PATCH",
            path,
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body=obj,
            content_type="application/apply-patch+yaml",
            timeout=30,
        )
        return result

    def delete(self, obj: Obj, propagation: str = "") -> None:
        """Delete ``obj`` (404 is fine); ``propagation``: Background/Foreground/Orphan."""
        query = [("propagationPolicy", propagation)] if propagation else []
        try:
            self._call("DELETE", object_path(obj, self.namespace), query=query, timeout=30)
        except KubeError as err:
            if err.status != 404:
                raise

    def get(self, obj: Obj) -> Obj | None:
        try:
            found: Obj = self._call("GET", object_path(obj, self.namespace), timeout=30)
            return found
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    def version(self, timeout: float = 5) -> Obj:
        result: Obj = self._call("GET", "/version", timeout=timeout)
        return result

    def can_i(
        self, verb: str, group: str, resource: str, sub: str, namespace: str, timeout: float = 5
    ) -> bool:
        """A SelfSubjectAccessReview: may this user do ``verb`` on ``resource`` there?"""
        attrs = {"verb": verb, "group": group, "resource": resource, "namespace": namespace}
        if sub:
            attrs["subresource"] = sub
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        result = self._call(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body=review,
            content_type="application/json",
            timeout=timeout,
        )
        return bool((result.get("status") or {}).get("allowed"))

    def nodes(self) -> list[Obj]:
        try:
            items: list[Obj] = self._call("GET", "/api/v1/nodes", timeout=10).get("items") or []
            return items
        except KubeError:
            return []  # a namespaced user may not list nodes: detection falls back to names

    # -- pods -------------------------------------------------------------------------------

    @staticmethod
    def _pods_path(namespace: str) -> str:
        return f"/api/v1/namespaces/{namespace}/pods"

    def list_pods(self, namespace: str, selector: str) -> tuple[list[Obj], str]:
        data = self._call(
            "GET", self._pods_path(namespace), query=[("labelSelector", selector)], timeout=30
        )
        return list(data.get("items") or []), str(
            (data.get("metadata") or {}).get("resourceVersion") or ""
        )

    def watch_pods(
        self, namespace: str, selector: str, resource_version: str, timeout_s: int
    ) -> Any:
        """The raw watch response (iterate ``stream_lines``; ``close()`` ends it)."""
        return self._call(
            "GET",
            self._pods_path(namespace),
            query=[
                ("labelSelector", selector),
                ("watch", "true"),
                ("resourceVersion", resource_version),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", timeout_s),
            ],
            stream=True,
            timeout=(10, timeout_s + 30),
        )

    def delete_pods(self, namespace: str, selector: str) -> list[str]:
        pods, _ = self.list_pods(namespace, selector)
        names = []
        for pod in pods:
            name = str(pod["metadata"]["name"])
            try:
                self._call("DELETE", f"{self._pods_path(namespace)}/{name}", timeout=30)
                names.append(name)
            except KubeError as err:
                if err.status != 404:
                    raise
        return names

    def logs(
        self, namespace: str, pod: str, container: str, *, follow: bool, previous: bool
    ) -> Any:
        """The raw log response, with timestamps (iterate ``stream_lines``)."""
        query: list[tuple[str, Any]] = [("container", container), ("timestamps", "true")]
        if follow:
            query.append(("follow", "true"))
        if previous:
            query.append(("previous", "true"))
        return self._call(
            "GET",
            f"{self._pods_path(namespace)}/{pod}/log",
            query=query,
            stream=True,
            timeout=(10, None),
        )

    def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        argv: list[str],
        stdin: bytes | None = None,
        timeout_s: float = 300,
        on_output: Callable[[int, bytes], None] | None = None,
    ) -> ExecResult:
        """Run ``argv`` in the container over the websocket channel protocol; stdin (if any)
        is sent whole, then closed. ``on_output(channel, data)`` sees stdout (1) and stderr
        (2) as they arrive; the result holds all of it too."""
        from kubernetes import client, stream
        from websocket import WebSocketException

        core = client.CoreV1Api(self.client)
        try:
            ws = stream.stream(
                core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                container=container,
                command=argv,
                stdin=stdin is not None,
                stdout=True,
                stderr=True,
                tty=False,
                _preload_content=False,
                binary=True,
            )
        except Exception as err:
            raise _error(err, self.server) from None
        out = {CHANNEL_STDOUT: bytearray(), CHANNEL_STDERR: bytearray()}
        status: dict[str, Any] | None = None
        deadline = time.monotonic() + timeout_s

        def drain() -> None:
            for channel, buf in out.items():
                data = ws.read_channel(channel) or b""
                if data:
                    buf += data
                    if on_output is not None:
                        on_output(channel, data)

        # The stream can end under us at two moments, and neither loses the exit status the
        # server sent first: the process ended (the server closed the stream) before taking
        # all of stdin or before our v5 close of it; or the server's close frame arrives
        # after its connection is gone, and the websocket library's reply to it fails.
        closed: Exception | None = None
        try:
            if stdin is not None:
                try:
                    for i in range(0, len(stdin), 1 << 20):
                        ws.write_stdin(stdin[i : i + (1 << 20)])
                    ws.close_channel(CHANNEL_STDIN)  # v5; v4 servers do not signal it
                except (OSError, WebSocketException) as err:
                    closed = err
            while status is None and ws.is_open() and time.monotonic() < deadline:
                try:
                    ws.update(timeout=1)
                except (OSError, WebSocketException) as err:
                    closed = err
                    break
                finally:
                    drain()
                raw = ws.read_channel(CHANNEL_ERROR)
                if raw:
                    status = json.loads(raw)
            drain()
            if status is None and (raw := ws.read_channel(CHANNEL_ERROR)):
                status = json.loads(raw)
        except Exception as err:
            raise KubeError(0, "ExecFailed", f"exec into {pod}/{container} failed: {err}") from None
        finally:
            with contextlib.suppress(Exception):
                ws.close()
        if status is None:
            why = (
                f"no exit status within {timeout_s:g} s"
                if time.monotonic() >= deadline
                else "ended without an exit status"
            )
            if closed is not None:
                why += f" (the stream ended: {closed})"
            raise KubeError(0, "ExecFailed", f"exec into {pod}/{container}: {why}")
        return exec_result(status, bytes(out[CHANNEL_STDOUT]), bytes(out[CHANNEL_STDERR]))


def exec_result(status: Mapping[str, Any], stdout: bytes, stderr: bytes) -> ExecResult:
    """Read channel 3's ``Status``: Success, NonZeroExitCode with the code, or a failure to
    run the command at all."""
    if status.get("status") == "Success":
        return ExecResult(0, stdout, stderr)
    causes = (status.get("details") or {}).get("causes") or []
    if status.get("reason") == "NonZeroExitCode":
        code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), "1")
        return ExecResult(int(code or 1), stdout, stderr)
    return ExecResult(126, stdout, stderr, str(status.get("message") or "exec failed"))


def stream_lines(resp: Any) -> Iterator[bytes]:
    """Complete lines of a streamed response, as they arrive."""
    pending = b""
    for chunk in resp.stream(amt=65536, decode_content=False) if hasattr(resp, "stream") else resp:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from lines
    if pending:
        yield pending
