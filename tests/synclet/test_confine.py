"""Links already in the container cannot lead an update out of its destination.

The request itself is clean here (the archive checks pass); only the container's own
symlinks point outside ``dest``. The synclet must notice before writing or deleting anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from synclet.protocol import Failed, UpdateSpec
from tests.synclet.helpers import Synclet, exec_out, make_tar, member, post_update, run_container

pytestmark = pytest.mark.docker

SETUP = (
    "mkdir -p /app/real /srv && echo keep > /etc/keep && "
    "ln -s /etc /app/logs && ln -s real /app/rel && ln -s ../.. /app/real/up && "
    "ln -s /app /srv/app"
)


@pytest.fixture
def linked(docker_client: Any, base_image: str, docker_resources: Any) -> Any:
    container = run_container(docker_client, docker_resources, base_image)
    exec_out(container, "sh", "-c", SETUP)
    return container


def _spec(deletes: tuple[str, ...] = (), dest: str = "/app") -> UpdateSpec:
    return UpdateSpec(deletes=deletes, changed=(), run_steps=(), restart="none", dest=dest)


@pytest.mark.parametrize(
    ("deletes", "members", "needle"),
    [
        (
            (),
            [(member("logs/evil"), b"x")],
            "/app/logs leads to /etc through a symlink already in the container, which is outside /app",
        ),
        ((), [(member("real/up/evil"), b"x")], "/app/real/up leads to / through a symlink"),
        (("/app/logs/keep",), [], "/app/logs leads to /etc"),
        # A clean file first: refusal is whole.
        (
            ("/app/rel/x",),
            [(member("ok.txt"), b"ok"), (member("logs/sub/evil"), b"x")],
            "/app/logs/sub leads to /etc/sub",
        ),
    ],
)
async def test_container_links_out_of_dest_are_refused(
    synclet: Synclet, linked: Any, deletes: tuple[str, ...], members: list[Any], needle: str
) -> None:
    before = sorted(linked.diff(), key=lambda d: d["Path"])
    reply = await post_update(synclet, linked.id, _spec(deletes), make_tar(*members))
    assert reply.names() == ["started", "failed"], reply.events
    failed = reply.events[-1]
    assert isinstance(failed, Failed) and failed.kind == "refused"
    assert needle in failed.message and failed.message.endswith("nothing was applied")
    assert sorted(linked.diff(), key=lambda d: d["Path"]) == before
    assert exec_out(linked, "cat", "/etc/keep") == "keep\n"


async def test_links_that_stay_inside_are_followed(synclet: Synclet, linked: Any) -> None:
    reply = await post_update(synclet, linked.id, _spec(), make_tar((member("rel/a.txt"), b"a")))
    assert reply.names()[-1] == "done", reply.events
    assert exec_out(linked, "cat", "/app/real/a.txt") == "a"
    # A destination that is itself a link is judged by where it really is.
    reply = await post_update(
        synclet, linked.id, _spec(dest="/srv/app"), make_tar((member("b.txt"), b"b"))
    )
    assert reply.names()[-1] == "done", reply.events
    assert exec_out(linked, "cat", "/app/b.txt") == "b"
