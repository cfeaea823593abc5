"""Telling the deaths we caused from crashes, by time (pure)."""

from __future__ import annotations

import time

from tilt_lsp.runtime.compose.windows import DIE_SLACK_S, Windows


def test_a_death_during_a_restart_is_ours_however_long_it_takes() -> None:
    w = Windows()
    with w.restarting("c1"):
        t0 = time.time()
        assert w.caused("c1", t0)
        assert w.caused("c1", t0 + 3600)  # still restarting: open-ended
        assert not w.caused("c2", t0)  # another container
    done = time.time()
    assert w.caused("c1", done + DIE_SLACK_S / 2)  # the event stamped just after
    assert not w.caused("c1", done + DIE_SLACK_S + 1)  # a later death is a crash
    assert not w.caused("c1", t0 - 10)  # an earlier one too


def test_our_operations_are_ours_only_while_they_run() -> None:
    w = Windows()
    before = time.time() - 1
    with w.ours():
        assert w.is_ours(time.time())
    assert not w.is_ours(before)
    assert not w.is_ours(time.time() + 5)
