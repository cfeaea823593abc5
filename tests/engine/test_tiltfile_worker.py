"""Tiltfile evaluation in the worker process: the same Model as in-process (it pickles,
Mapping fields included), a time limit and a memory bound that end in a TiltfileError."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tilt_lsp.tiltfile.errors import TiltfileError
from tilt_lsp.tiltfile.loader import load_tiltfile
from tilt_lsp.tiltfile.worker import TiltfileWorker

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/Tiltfile"))


@pytest.fixture
async def worker():
    w = TiltfileWorker(timeout_s=3, memory_mb=200)
    yield w
    await w.close()


@pytest.mark.parametrize("tiltfile", EXAMPLES, ids=lambda p: p.parent.name)
async def test_the_worker_gives_the_same_model_as_an_in_process_evaluation(
    worker: TiltfileWorker, tiltfile: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    assert await worker.load(str(tiltfile), env) == load_tiltfile(str(tiltfile), env)


async def test_env_and_config_mappings_survive_the_trip(worker: TiltfileWorker, tmp_path) -> None:
    (tmp_path / "Tiltfile").write_text(
        "local_resource('r', serve_cmd='true', serve_env={'A': '1'}, env={'B': '2'})\n"
    )
    model = await worker.load(str(tmp_path / "Tiltfile"), {})
    spec = model.resource("r").local  # type: ignore[union-attr]
    assert spec is not None and dict(spec.serve_env) == {"A": "1"} and dict(spec.env) == {"B": "2"}


async def test_a_tiltfile_error_keeps_its_location_and_kind(
    worker: TiltfileWorker, tmp_path
) -> None:
    (tmp_path / "Tiltfile").write_text("local_resource('r', cmd='true')\nlocal_resource(\n")
    with pytest.raises(TiltfileError) as err:
        await worker.load(str(tmp_path / "Tiltfile"), {})
    assert err.value.kind == "syntax" and err.value.location is not None
    assert err.value.location.line == 2


async def test_an_endless_tiltfile_is_stopped_at_the_time_limit_and_the_next_one_works(
    worker: TiltfileWorker, tmp_path
) -> None:
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text(
        "for i in range(100000000):\n    for j in range(100000000):\n        pass\n"
    )
    t0 = time.monotonic()
    with pytest.raises(TiltfileError) as err:
        await worker.load(str(tiltfile), {})
    assert err.value.kind == "timeout"
    assert str(err.value) == "evaluation took longer than 3 s"
    assert 3 <= time.monotonic() - t0 < 8
    tiltfile.write_text("local_resource('r', cmd='true')\n")
    assert [r.name for r in (await worker.load(str(tiltfile), {})).resources] == ["r"]


async def test_a_tiltfile_that_eats_memory_is_stopped_at_the_bound(
    worker: TiltfileWorker, tmp_path
) -> None:
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text("l = []\nfor i in range(100000000):\n    l.append(str(i) * 10)\n")
    with pytest.raises(TiltfileError) as err:
        await worker.load(str(tiltfile), {})
    assert str(err.value) == "evaluation used more than 200 MB of memory"


async def test_one_huge_allocation_hits_the_hard_limit_and_is_reported(
    worker: TiltfileWorker, tmp_path
) -> None:
    """Too fast for the polled bound: the worker's address-space limit stops it instead."""
    tiltfile = tmp_path / "Tiltfile"
    tiltfile.write_text('x = "a" * 2000000000\n')  # 2 GB at once, over 4 x 200 MB
    with pytest.raises(TiltfileError) as err:
        await worker.load(str(tiltfile), {})
    assert err.value.kind == "crash"
    assert str(err.value).startswith("the Tiltfile evaluation process died (killed by signal")
    tiltfile.write_text("local_resource('r', cmd='true')\n")  # a fresh worker takes over
    assert [r.name for r in (await worker.load(str(tiltfile), {})).resources] == ["r"]
