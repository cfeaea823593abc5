"""What a real kubelet does to live-updated containers, on the test API server: a restarted
container starts from its image (its files are gone), a container can restart while an exec
runs, a crash-looping container cannot be reached, and before Kubernetes 1.29 closing stdin
is not signalled (BusyBox tar reads to the end of its input)."""

from __future__ import annotations

import asyncio

import pytest

from tests.k8s.runtime_support import APP, Setup, wait_pods, with_restart_process
from tilt_lsp.engine.status import BuildStatus, RuntimeStatus
from tilt_lsp.runtime.k8s.api import KubeApi, KubeError
from tilt_lsp.runtime.k8s.liveupdate import TAR_ARGV


async def test_a_container_the_kubelet_restarts_is_re_synced_before_it_is_ready(
    setup: Setup,
) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "synced"))
    await setup.live_updated(app)
    root = setup.fake.container_dir(pod, "app")
    assert "synced" in (root / "app" / "app.py").read_text()

    setup.fake.crash(pod, "app", 1, back_off=False)  # restarted at once, from the image
    await setup.until(
        lambda: (
            (root / "app" / "app.py").exists() and "synced" in (root / "app" / "app.py").read_text()
        ),
        what="the restarted container re-synced",
    )
    await setup.until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready again")
    log = setup.log()
    assert f"into {pod}/app (a new pod or a restarted container" in log
    # Not reported ready between the restart and the re-sync.
    resyncing = log.index(f"pods: re-syncing live-updated files into {pod}")
    assert log.index("pods: 1/1 pods ready, 1 restart") > resyncing
    assert (root / "app" / "ran.txt").exists(), "the run steps ran again"
    assert setup.fake.pod_names(selector="app=web") == [pod]


async def slow_run_step(setup: Setup) -> None:
    tiltfile = setup.root / "Tiltfile"
    tiltfile.write_text(
        tiltfile.read_text().replace("echo ran > ran.txt", "sleep 1; echo ran > ran.txt")
    )
    setup.engine.files_changed([str(tiltfile)])
    await setup.redeployed()


async def test_a_live_update_whose_container_restarted_is_retried_in_the_new_one(
    setup: Setup,
) -> None:
    await slow_run_step(setup)
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    builds = len(setup.builds.builds)
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "retried"))
    setup.engine.files_changed([str(app)])
    await setup.until(lambda: "$ sleep 1" in setup.log(), what="the run step running")
    setup.fake.crash(pod, "app", 137, back_off=False)  # underneath the exec
    await setup.until(
        lambda: (
            "restarted during the live update" in setup.log()
            and setup.status.build is BuildStatus.OK
        ),
        what="the retry done",
    )
    assert "retrying once in the new container with every file since the image" in setup.log()
    root = setup.fake.container_dir(pod, "app")
    app_in_pod = root / "app" / "app.py"
    assert app_in_pod.exists() and "retried" in app_in_pod.read_text(), setup.log()
    await setup.until(
        lambda: (root / "app" / "ran.txt").exists(), what="the run step in the new one"
    )
    assert len(setup.builds.builds) == builds, "nothing built"


async def test_a_container_that_restarts_again_in_the_retry_is_the_changes_crash(
    setup: Setup,
) -> None:
    await slow_run_step(setup)
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    builds = len(setup.builds.builds)
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "crashes"))
    setup.engine.files_changed([str(app)])
    await setup.until(lambda: "$ sleep 1" in setup.log(), what="the run step running")
    setup.fake.crash(pod, "app", 137, back_off=False)
    await setup.until(lambda: "retrying once" in setup.log(), what="the retry")
    await setup.until(lambda: setup.log().count("$ sleep 1") >= 2, what="the retry's run step")
    setup.fake.crash(pod, "app", 137, back_off=False)
    await setup.until(lambda: setup.status.build is BuildStatus.ERROR, what="the error")
    assert "and again in the retry: the change seems to crash the app" in (
        setup.status.last_error or ""
    )
    assert "Nothing was rebuilt" in (setup.status.last_error or "")
    assert len(setup.builds.builds) == builds, "no image built from the crashing state"


async def test_a_change_to_a_crash_looping_container_builds_and_deploys(setup: Setup) -> None:
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    builds = len(setup.builds.builds)
    setup.fake.crash(pod, "app", 1)  # CrashLoopBackOff: no running container to exec into
    await setup.until(lambda: setup.status.runtime is RuntimeStatus.CRASHED, what="crashed")
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "fixed"))
    setup.engine.files_changed([str(app)])
    await setup.until(
        lambda: len(setup.builds.builds) > builds and setup.status.build is BuildStatus.OK,
        what="a build and deploy",
    )
    assert f"full build: {pod}/app is not running (crashing)" in setup.log()


async def test_busybox_tar_on_a_v4_server_ends_with_the_archive(setup: Setup) -> None:
    setup.fake.set(exec_protocols=("v4.channel.k8s.io",), busybox_tar_images={"example.com/web"})
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    # The double models the hang: a plain `tar -x` never ends (stdin's end is not signalled).
    api = KubeApi({"KUBECONFIG": str(setup.fake.kubeconfig)})
    with pytest.raises(KubeError, match="no exit status within 1 s"):
        await asyncio.to_thread(
            api.exec, "default", pod, "app", TAR_ARGV, stdin=b"\0" * 1024, timeout_s=1
        )
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "busybox"))
    await setup.live_updated(app)
    assert "busybox" in (setup.fake.container_dir(pod, "app") / "app" / "app.py").read_text()
    assert "full build" not in setup.log()


async def test_with_a_restart_wrapper_the_app_restarts_in_the_same_pod(setup: Setup) -> None:
    setup.builds.signal = "SIGHUP"  # the image carries dev.tilt-lsp.restart-signal=SIGHUP
    tiltfile = setup.root / "Tiltfile"
    tiltfile.write_text(with_restart_process(tiltfile.read_text()))
    setup.engine.files_changed([str(tiltfile)])
    await setup.redeployed()
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "restarted"))
    setup.engine.files_changed([str(app)])
    signals = await setup.until(
        lambda: setup.fake.call(lambda: list(setup.fake.cluster.signals)), what="a signal"
    )
    assert signals == [("default", pod, "app", "HUP")], setup.log()
    await setup.until(lambda: setup.status.build is BuildStatus.OK, what="the live update done")
    assert setup.fake.pod_names(selector="app=web") == [pod], "no pod deleted"
    assert f"restarting the app in {pod}/app (SIGHUP to PID 1)" in setup.log()

    # A container the kubelet restarts: re-synced, then its app restarted with the files.
    setup.fake.crash(pod, "app", 1, back_off=False)
    await setup.until(
        lambda: len(setup.fake.call(lambda: list(setup.fake.cluster.signals))) == 2,
        what="the wrapper signalled after the re-sync",
    )
    root = setup.fake.container_dir(pod, "app")
    assert "restarted" in (root / "app" / "app.py").read_text()


async def test_an_app_that_exits_under_the_restart_wrapper_is_a_crash(setup: Setup) -> None:
    """With the wrapper as PID 1 the container outlives the app: the pod looks fine to
    Kubernetes, the wrapper's line in the log says what happened."""
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    setup.fake.log(
        pod, ["restart-wrapper: python3 exited with code 3; waiting for SIGHUP to start it again"]
    )
    await setup.until(lambda: setup.status.runtime is RuntimeStatus.CRASHED, what="crashed")
    assert setup.status.exit_code == 3
    assert f"pod {pod} container app: the app exited with code 3" in (setup.status.last_error or "")
    setup.fake.log(pod, ["restart-wrapper: restarting python3"])
    await setup.until(lambda: setup.status.runtime is RuntimeStatus.READY, what="ready again")


async def test_an_image_without_head_gets_a_plain_tar(setup: Setup) -> None:
    setup.fake.set(no_head_images={"example.com/web"})  # v5 here: stdin's close ends the tar
    pod = (await wait_pods(setup.fake))[0]["metadata"]["name"]
    app = setup.root / "app.py"
    app.write_text(APP.replace("bad input", "no head"))
    await setup.live_updated(app)
    assert "no head" in (setup.fake.container_dir(pod, "app") / "app" / "app.py").read_text()
    assert "full build" not in setup.log()
