"""Embedded recovery: runs another live process on this machine is streaming (the CLI beside the app) are left
alone; runs whose process is gone become interrupted, with what they had."""

from __future__ import annotations

import subprocess
import sys

from lib.runs import jobs, recovery
from lib.storage.store import Store


def _claimed_by(store: Store, worker: str) -> str:
    run = store.create_run("q", "m", "t", [])
    idx = store.add_turn(run.id, "q", [], request={})
    assert store.as_owner(store.owner, admin=True).claim_turn(worker, 10, only=(run.id, idx)) is not None
    return run.id


def test_a_run_held_by_another_live_process_is_not_interrupted(store: Store) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        live = _claimed_by(store, f"local:{other.pid}")
        dead = _claimed_by(store, f"local:{gone.pid}")
        orphan = _claimed_by(store, "local:not-a-pid")
        assert jobs.is_active(live, store) and not jobs.is_active(dead, store)

        assert sorted(recovery.settle(store)) == sorted([dead, orphan])
        assert store.run(live).status == "running"
        assert store.run(dead).status == "interrupted" and "stopped while this run" in store.run(dead).error
        assert store.as_owner("bob").active_turn_workers() == {}, "another owner's view holds none of these"
    finally:
        other.kill()
        other.wait()
    assert recovery.settle(store, only={live}) == [live], "once its process is gone, it is interrupted too"
