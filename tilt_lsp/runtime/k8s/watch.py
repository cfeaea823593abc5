"""Following a resource's pods and their logs, from threads, reporting onto the engine loop.

``PodWatcher`` lists, then watches from the list's resourceVersion. A watch ends for many
reasons (the server's timeout, a dropped connection, an expired resourceVersion); it is
re-established from the last resourceVersion seen, and on ``410 Gone`` (or any error) by
listing again. Each change hands the *whole* current set of pods to the loop, so a relist
loses nothing that matters: whatever happened while we were not watching is in the pods'
state (restart counts, last termination), and the log follower fetches the log of a
container instance it never saw (``previous=true``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tilt_lsp.runtime.k8s.api import KubeApi, KubeError, stream_lines
from tilt_lsp.runtime.k8s.objects import Obj

WATCH_TIMEOUT_S = 300
RETRY_S = (0.2, 0.5, 1.0, 2.0, 5.0)


def _close(resp: Any) -> None:
    for method in ("shutdown", "close", "release_conn"):
        fn = getattr(resp, method, None)
        if fn is not None:
            with contextlib.suppress(Exception):
                fn()


class PodWatcher:
    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        selector: str,
        loop: asyncio.AbstractEventLoop,
        on_pods: Callable[[dict[str, Obj]], None],
        on_note: Callable[[str], None],
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.selector = selector
        self._loop = loop
        self._on_pods = on_pods
        self._on_note = on_note
        self._stopped = threading.Event()
        self._resp: Any = None
        self._thread = threading.Thread(target=self._run, name=f"pods:{selector}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._resp is not None:
            _close(self._resp)

    def _publish(self, pods: Mapping[str, Obj]) -> None:
        if not self._stopped.is_set():
            snapshot = dict(pods)
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(self._on_pods, snapshot)

    def _note(self, text: str) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._on_note, text)

    def _run(self) -> None:
        pods: dict[str, Obj] = {}
        rv: str | None = None
        failures = 0
        while not self._stopped.is_set():
            try:
                if rv is None:
                    items, rv = self.api.list_pods(self.namespace, self.selector)
                    pods = {str(p["metadata"]["uid"]): p for p in items}
                    self._publish(pods)
                self._resp = self.api.watch_pods(self.namespace, self.selector, rv, WATCH_TIMEOUT_S)
                for line in stream_lines(self._resp):
                    if self._stopped.is_set():
                        return
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind, obj = event.get("type"), event.get("object") or {}
                    if kind == "ERROR":
                        code = int(obj.get("code") or 0)
                        if code == 410:
                            self._note("pod watch expired (410 Gone): listing the pods again")
                            rv = None
                            break
                        raise KubeError(
                            code,
                            str(obj.get("reason") or ""),
                            str(obj.get("message") or "watch error"),
                        )
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if kind == "BOOKMARK":
                        continue
                    uid = str(obj["metadata"]["uid"])
                    if kind == "DELETED":
                        pods.pop(uid, None)
                    else:
                        pods[uid] = obj
                    self._publish(pods)
                failures = 0
            except Exception as err:  # a dropped connection, a refused request: list again
                if self._stopped.is_set():
                    return
                message = err.message if isinstance(err, KubeError) else str(err)
                self._note(f"pod watch failed ({message}); listing the pods again")
                rv = None
                self._stopped.wait(RETRY_S[min(failures, len(RETRY_S) - 1)])
                failures += 1
            finally:
                if self._resp is not None:
                    _close(self._resp)
                    self._resp = None


def wrapper_says(line: str) -> tuple[str, int | None] | None:
    """The restart wrapper's own lines in a log line with a ``timestamps=true`` prefix:
    ("exited", code) when the app exited by itself, ("restarting", None), or None."""
    from tilt_lsp.build.finish import app_exit_code

    text = line.split(" ", 1)[1] if " " in line and line[:1].isdigit() else line
    if not text.startswith("restart-wrapper: "):
        return None
    code = app_exit_code(text)
    if code is not None:
        return "exited", code
    if text.startswith("restart-wrapper: restarting"):
        return "restarting", None
    return None


class LogFollower:
    """Streams the log of every container instance of the given pods, once each.

    An instance is named by its containerID. A running instance is followed; an instance that
    died before we attached is read whole: with ``previous=true`` when a new instance already
    runs, without when the dead one is still the container's latest (CrashLoopBackOff)."""

    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        loop: asyncio.AbstractEventLoop,
        on_line: Callable[[str], None],
        on_note: Callable[[str], None],
        on_wrapper: Callable[[str, str, str, int | None], None] | None = None,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self._loop = loop
        self._on_line = on_line
        self._on_note = on_note
        # (pod, container, containerID, the app's exit code or None for a restart): what the
        # restart wrapper (PID 1) says in a running instance's log, where the container
        # outlives the app
        self._on_wrapper = on_wrapper
        self._seen: set[str] = set()
        self._streams: dict[str, tuple[str, Any]] = {}  # instance id -> (pod, response)
        self._lock = threading.Lock()
        self._stopped = False

    def sync(self, pods: list[Obj]) -> None:
        """Start streams for instances not seen yet; end streams of pods that are gone."""
        names = {str(p["metadata"]["name"]) for p in pods}
        with self._lock:
            for owner, resp in list(self._streams.values()):
                if owner not in names and resp is not None:
                    _close(resp)
        for obj in pods:
            name = str(obj["metadata"]["name"])
            status = obj.get("status") or {}
            # Init containers too: a failing migration's output is the one that matters.
            for c in [
                *(status.get("initContainerStatuses") or []),
                *(status.get("containerStatuses") or []),
            ]:
                self._sync_container(name, c)

    def _sync_container(self, pod: str, c: Mapping[str, Any]) -> None:
        container = str(c.get("name"))
        state = c.get("state") or {}
        last = (c.get("lastState") or {}).get("terminated") or {}
        current_id = str(c.get("containerID") or "")
        if last.get("containerID") and str(last["containerID"]) not in self._seen:
            last_id = str(last["containerID"])
            # The dead instance is the previous one only when a newer one has started.
            previous = "running" in state or (bool(current_id) and current_id != last_id)
            self._start(last_id, pod, container, follow=False, previous=previous)
        if (
            current_id
            and current_id not in self._seen
            and ("running" in state or "terminated" in state)
        ):
            self._start(current_id, pod, container, follow="running" in state, previous=False)

    def _start(self, key: str, pod: str, container: str, follow: bool, previous: bool) -> None:
        if self._stopped:
            return
        self._seen.add(key)
        threading.Thread(
            target=self._stream,
            args=(key, pod, container, follow, previous),
            daemon=True,
            name=f"logs:{pod}/{container}",
        ).start()

    def _stream(self, key: str, pod: str, container: str, follow: bool, previous: bool) -> None:
        prefix = f"[pod/{pod}/{container}] "
        for attempt in range(20):
            try:
                resp = self.api.logs(
                    self.namespace, pod, container, follow=follow, previous=previous
                )
            except KubeError as err:
                # "waiting to start" right after the status said running: ask again shortly.
                if err.status == 400 and attempt < 19 and not self._stopped:
                    time.sleep(0.1)
                    continue
                if err.status != 404:
                    self._note(f"cannot read the log of {pod}/{container}: {err.message}")
                return
            break
        else:
            return
        with self._lock:
            self._streams[key] = (pod, resp)
        try:
            for raw in stream_lines(resp):
                line = raw.decode("utf-8", "replace").rstrip("\r")
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(self._on_line, prefix + line)
                    if follow and self._on_wrapper is not None:
                        said = wrapper_says(line)
                        if said is not None:
                            self._loop.call_soon_threadsafe(
                                self._on_wrapper, pod, container, key, said[1]
                            )
        except Exception:
            pass  # closed by stop() or by the pod going away
        finally:
            with self._lock:
                self._streams.pop(key, None)
            _close(resp)

    def _note(self, text: str) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._on_note, text)

    def stop(self) -> None:
        self._stopped = True
        with self._lock:
            for _, resp in self._streams.values():
                if resp is not None:
                    _close(resp)
            self._streams.clear()
