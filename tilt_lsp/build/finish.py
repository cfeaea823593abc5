"""The last step of every image build: tilt-lsp's labels and, when the live update restarts,
the restart wrapper in front of the image's own entrypoint.

The user's Dockerfile is built as written (its step numbers are the user's); then one commit
on top of the result (create a container that never starts, ``put_archive`` the wrapper,
``commit`` with the new config) adds what tilt-lsp needs, in ~0.1 s and one layer. Labels do
not go through the legacy builder's ``labels=`` parameter: that builder turns each label into
an extra ``LABEL`` step (a container and a commit each).

The wrapper (``synclet/restart-wrapper.sh``, shipped in the package) restarts the app on
SIGHUP, so ``restart_container()`` (and the restart_process extension) restart the process
inside the same container instead of the container. It wraps the image's ENTRYPOINT + CMD as
the built image's config says; ``TILT_LSP_RESTART_WRAPPER=0`` turns it off. An image that
declares its own restart signal, or has no ``/bin/sh``, is left as it is.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import io
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tilt_lsp.build import labels as lbl
from tilt_lsp.tiltfile.model import ImageBuild

WRAPPER_PATH = "/.tilt-lsp/restart-wrapper"
RESTART_SIGNAL = "SIGHUP"
RESTART_SIGNAL_LABEL = "dev.tilt-lsp.restart-signal"  # the synclet's "process" restart mode
WRAPPER_LABEL = "dev.tilt-lsp.restart-wrapper"  # where the wrapper is (it must be PID 1's path)
OPT_OUT = "TILT_LSP_RESTART_WRAPPER"  # "0" / "off" / "false" / "no": never wrap


# The wrapper's line when the app exits by itself (the container stays up): how a runtime
# learns of a crash under the wrapper (compose: watch.py; Kubernetes likewise from pod logs).
APP_EXITED = re.compile(r"^restart-wrapper: (.*) exited with code (\d+);")


def app_exit_code(line: str) -> int | None:
    """The app's exit code when ``line`` is the wrapper saying the app exited, else None."""
    m = APP_EXITED.match(line)
    return int(m.group(2)) if m else None


class FinishError(Exception):
    """The finishing commit failed (the user's image itself built)."""


def wrapper_script() -> bytes:
    """The restart wrapper, from the installed package."""
    return importlib.resources.files("synclet").joinpath("restart-wrapper.sh").read_bytes()


def opted_out(env: Mapping[str, str]) -> bool:
    return env.get(OPT_OUT, "").strip().lower() in ("0", "off", "false", "no")


def wants_wrapper(image: ImageBuild, env: Mapping[str, str]) -> bool:
    """Whether this image's live update restarts (so the wrapper is worth adding)."""
    lu = image.live_update
    if lu is None or not (lu.restart_container or lu.restart_process):
        return False
    return not opted_out(env)


@dataclass(frozen=True, slots=True)
class Finish:
    """What the finishing commit sets: ``conf`` for the commit API; ``wrapped`` whether the
    wrapper goes in; ``note`` why not, in the user's words (None when nothing to say)."""

    conf: dict[str, Any]
    wrapped: bool
    note: str | None = None


def plan_finish(
    config: Mapping[str, Any], labels: Mapping[str, str], wrap: bool, has_shell: bool
) -> Finish:
    """The new image config from the built image's ``config`` (pure). The commit API merges
    ``conf`` over the container's config: what is not set here stays as the image had it."""
    conf: dict[str, Any] = {"Labels": dict(labels)}
    if not wrap:
        return Finish(conf, wrapped=False)
    own = (config.get("Labels") or {}).get(RESTART_SIGNAL_LABEL)
    if own:
        return Finish(conf, False, f"the image declares its own restart signal ({own}): kept")
    if not has_shell:
        return Finish(
            conf,
            False,
            "the image has no /bin/sh for the restart wrapper: restart_container() restarts "
            "the container",
        )
    entrypoint = list(config.get("Entrypoint") or [])
    cmd = list(config.get("Cmd") or [])
    conf["Labels"] = {**labels, RESTART_SIGNAL_LABEL: RESTART_SIGNAL, WRAPPER_LABEL: WRAPPER_PATH}
    conf["Entrypoint"] = [WRAPPER_PATH, *entrypoint]
    if cmd:
        conf["Cmd"] = cmd
    # Docker counts any signal sent through its kill API as a manual stop (the restart policy
    # is off for the next exit) unless the image names its stop signal.
    conf["StopSignal"] = str(config.get("StopSignal") or "SIGTERM")
    return Finish(conf, wrapped=True)


def wrapper_tar() -> bytes:
    data = wrapper_script()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tf:
        folder = tarfile.TarInfo(WRAPPER_PATH.lstrip("/").rsplit("/", 1)[0])
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755  # readable by the image's USER, whoever that is
        tf.addfile(folder)
        info = tarfile.TarInfo(WRAPPER_PATH.lstrip("/"))
        info.size = len(data)
        info.mode = 0o755
        tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def finish_image(
    api: Any, image_id: str, ref: str, labels: Mapping[str, str], wrap: bool
) -> tuple[str, Finish]:
    """Commit ``image_id`` + labels (+ wrapper) as ``ref``; (new image id, what was done).
    Blocking: run in a thread. Raises ``FinishError``."""
    try:
        config: dict[str, Any] = api.inspect_image(image_id).get("Config") or {}
        # A container that never starts. With neither ENTRYPOINT nor CMD Docker refuses to
        # create one: give it the wrapper (wrapped, that is the final entrypoint anyway).
        create: dict[str, Any] = {}
        if not config.get("Entrypoint") and not config.get("Cmd"):
            create["entrypoint"] = [WRAPPER_PATH]
        cid = api.create_container(image_id, labels={**labels, lbl.BUILD_KIND: "layer"}, **create)[
            "Id"
        ]
    except Exception as err:
        raise FinishError(f"cannot finish the image: {err}") from None
    try:
        has_shell = wrap and _has_shell(api, cid)
        finish = plan_finish(config, labels, wrap, has_shell)
        if create and not finish.wrapped:
            # Without the wrapper the temporary entrypoint must not stay: a one-line build.
            return _label_build(api, image_id, ref, labels), finish
        if finish.wrapped:
            api.put_archive(cid, "/", wrapper_tar())
        repo, _, tag = ref.rpartition(":")
        result = api.commit(cid, repository=repo, tag=tag, conf=finish.conf)
        return str(result["Id"]), finish
    except FinishError:
        raise
    except Exception as err:
        raise FinishError(f"cannot finish the image: {err}") from None
    finally:
        with contextlib.suppress(Exception):
            api.remove_container(cid, force=True, v=True)


def _has_shell(api: Any, cid: str) -> bool:
    try:
        stream, _stat = api.get_archive(cid, "/bin/sh")
    except Exception:
        return False
    for _ in stream:  # drain: the connection goes back to the pool
        pass
    return True


def _label_build(api: Any, image_id: str, ref: str, labels: Mapping[str, str]) -> str:
    """``FROM image`` + one LABEL step: for an image with no command to keep."""
    import json

    pairs = " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in labels.items())
    dockerfile = f"FROM {image_id}\nLABEL {pairs}\n".encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tf:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tf.addfile(info, io.BytesIO(dockerfile))
    found: str | None = None
    for message in api.build(
        fileobj=io.BytesIO(out.getvalue()),
        custom_context=True,
        tag=ref,
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
    ):
        if "error" in message:
            raise FinishError(f"cannot label the image: {message['error']}")
        if isinstance(message.get("aux"), dict):
            found = message["aux"].get("ID") or found
    if found is None:
        found = str(api.inspect_image(ref)["Id"])
    return found
