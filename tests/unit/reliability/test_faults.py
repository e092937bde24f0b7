"""``RELAY_FAULT``: parsed strictly, a no-op unless set, and a crash at the n-th hit (the
crash itself is exercised with real processes in tests/reliability/)."""

from __future__ import annotations

import os
import signal

import pytest

from relay.faults import Faults


def test_unset_arms_nothing_and_every_hit_is_a_no_op() -> None:
    faults = Faults.from_env({})
    assert faults.armed == {}
    for _ in range(3):
        faults.hit("after_commit")
        faults.hit("after_send")


def test_points_and_counts_are_parsed() -> None:
    faults = Faults.from_env({"RELAY_FAULT": "after_commit:40, after_send"})
    assert faults.armed == {"after_commit": 40, "after_send": 1}


@pytest.mark.parametrize("spec", ["before_lunch", "after_commit:0", "after_send:x"])
def test_a_bad_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="RELAY_FAULT"):
        Faults.from_env({"RELAY_FAULT": spec})


def test_the_nth_hit_kills_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append((pid, sig)))
    faults = Faults({"after_send": 3})
    faults.hit("after_send")
    faults.hit("after_commit")  # another point: not counted
    faults.hit("after_send")
    assert killed == []
    faults.hit("after_send")
    assert killed == [(os.getpid(), signal.SIGKILL)]
