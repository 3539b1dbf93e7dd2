"""The queue of turns on the embedded database: claiming, leases, stop requests, and settling runs nobody works on."""

from __future__ import annotations

import time

import pytest

from lib.errors import NotAllowedError
from lib.storage.queue import INTERRUPTED_BY_WORKER
from lib.transcript import Text


def _queued(store, question: str = "q") -> tuple[str, int]:
    run = store.create_run(question, "m", "t", [])
    return run.id, store.add_turn(run.id, question, [], request={"question": question})


def test_restart_marks_in_flight_runs_interrupted(store):
    live = store.create_run("live", "m", "t", [])
    dead = store.create_run("dead", "m", "t", [])
    for run in (live, dead):
        store.add_turn(run.id, "q", [])
    assert store.mark_interrupted(keep={live.id}) == [dead.id]
    assert store.run(dead.id).status == "interrupted" and "stopped" in store.run(dead.id).error
    assert store.turns(dead.id)[0].status == "interrupted"
    assert store.run(live.id).status == "running"


def test_the_oldest_queued_turn_is_claimed_once_with_its_request(store):
    first, second = _queued(store, "first"), _queued(store, "second")
    claim = store.claim_turn("worker-a", 10)
    assert (claim.run_id, claim.idx, claim.request) == (*first, {"question": "first"})
    assert store.run(first[0]).status == "running"
    assert store.turn_state(first[0]).worker == "worker-a"
    assert store.claim_turn("worker-b", 10).run_id == second[0]
    assert store.claim_turn("worker-b", 10) is None, "nothing is left to claim"


def test_the_heartbeat_renews_leases_and_reports_stop_requests(store):
    run_id, idx = _queued(store)
    store.claim_turn("worker-a", 0.5)
    store.heartbeat("worker-a", 60)
    assert store.turn_state(run_id).lease_until > time.time() + 30
    assert store.heartbeat("worker-a", 60) == set()
    assert store.request_stop(run_id)
    assert store.heartbeat("worker-a", 60) == {(run_id, idx)}
    assert store.heartbeat("worker-b", 60) == set(), "only the worker running it is told"


def test_stopping_a_turn_still_queued_stops_it_at_once(store):
    run_id, _ = _queued(store)
    assert store.request_stop(run_id)
    assert store.turn_state(run_id).status == "stopped" and store.run(run_id).status == "stopped"
    assert store.claim_turn("worker-a", 10) is None


def test_a_lease_that_ran_out_leaves_the_run_interrupted_with_its_items(store):
    expired, live = _queued(store, "expired"), _queued(store, "live")
    store.claim_turn("gone", -1.0, only=expired)
    store.claim_turn("alive", 60, only=live)
    store.put_item(expired[0], expired[1], 0, Text(text="kept"))
    assert store.reap_expired() == [expired[0]]
    assert store.run(expired[0]).status == "interrupted" and store.run(expired[0]).error == INTERRUPTED_BY_WORKER
    assert [s.item for s in store.items(expired[0])] == [Text(text="kept")]
    assert store.run(live[0]).status == "running"


def test_claiming_looks_across_owners_and_needs_an_admin(store):
    run_id, _ = _queued(store)
    bob = store.as_owner("bob")
    with pytest.raises(NotAllowedError):
        bob.claim_turn("worker-a", 10)
    with pytest.raises(NotAllowedError):
        bob.heartbeat("worker-a", 10)
    assert bob.turn_state(run_id) is None and not bob.request_stop(run_id), "another owner's run is out of reach"
    assert store.turn_state(run_id).status == "queued"
