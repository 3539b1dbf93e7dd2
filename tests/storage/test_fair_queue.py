"""The fair queue on the embedded database: round-robin across owners, the per-owner share, where a queued turn
stands (which must agree with the order turns are really claimed in), and the workers' own rows."""

from __future__ import annotations

import random

import pytest

from lib.runs.waiting import QueuePlace, place_in_queue, queue_overview
from lib.storage.queue import LEASE_SECONDS, WORKER_GONE_LEASES, turns_ahead


def _queue(store, owner: str, question: str) -> tuple[str, int]:
    mine = store.as_owner(owner)
    run = mine.create_run(question, "m", "t", [])
    return run.id, mine.add_turn(run.id, question, [], request={"question": question})


def _claim_all(store, max_per_owner: int = 0) -> list[str]:
    order = []
    while (claim := store.claim_turn("w", 60, max_per_owner=max_per_owner)) is not None:
        order.append(claim.request["question"])
    return order


def test_workers_claim_round_robin_across_owners_the_oldest_turn_of_who_waited_longest(store):
    for n in range(4):  # ana queues four at once, then bob two, then cy one
        _queue(store, "ana", f"ana{n}")
    _queue(store, "bob", "bob0")
    _queue(store, "bob", "bob1")
    _queue(store, "cy", "cy0")
    assert _claim_all(store) == ["ana0", "bob0", "cy0", "ana1", "bob1", "ana2", "ana3"]


def test_who_was_served_last_waits_behind_who_was_not(store):
    _queue(store, "ana", "ana0")
    assert _claim_all(store) == ["ana0"]
    _queue(store, "ana", "ana1")  # ana queues first, but was served a moment ago; bob never was
    _queue(store, "bob", "bob0")
    assert _claim_all(store) == ["bob0", "ana1"]


def test_an_owner_running_their_share_is_passed_over_until_one_of_theirs_ends(store):
    heavy = [_queue(store, "heavy", f"heavy{n}") for n in range(5)]
    _queue(store, "light", "light0")
    assert _claim_all(store, max_per_owner=2) == ["heavy0", "light0", "heavy1"]
    assert store.as_owner("heavy").turn_state(heavy[2][0]).status == "queued", "the third waits: two of heavy's run"
    store.as_owner("heavy").update_turn(*heavy[0], status="done")
    assert _claim_all(store, max_per_owner=2) == ["heavy2"]
    assert _claim_all(store, max_per_owner=0) == ["heavy3", "heavy4"], "0: no share"


def test_a_turn_claimed_by_name_ignores_the_share(store):
    first = _queue(store, "ana", "ana0")
    second = _queue(store, "ana", "ana1")
    store.claim_turn("w", 60, only=first, max_per_owner=1)
    assert store.claim_turn("w", 60, max_per_owner=1) is None
    assert store.claim_turn("local", 60, only=second, max_per_owner=1) is not None, "the embedded app's own turn"


@pytest.mark.parametrize("seed", range(6))
def test_the_place_a_page_shows_is_the_order_turns_are_claimed_in(store, seed):
    rng = random.Random(seed)
    owners = ["ana", "bob", "cy", "dee"][: rng.randint(2, 4)]
    for owner in rng.sample(owners, len(owners))[:2]:  # some owners were served before
        _queue(store, owner, "earlier")
    _claim_all(store)
    queued = {}
    for n in range(rng.randint(6, 14)):
        owner = rng.choice(owners)
        queued[f"{owner}{n}"] = _queue(store, owner, f"{owner}{n}")
    share = rng.choice([0, 2, 3])
    snapshot = store.queue_snapshot()
    predicted = {q: turns_ahead(snapshot, *key, max_per_owner=share) for q, key in queued.items()}
    order = _claim_all(store, max_per_owner=share)
    for question, (ahead, held) in predicted.items():
        if held:
            assert question not in order, f"{question} was said to wait for its owner's share"
        else:
            assert order.index(question) == ahead, f"{question}: {ahead} said to be ahead, claimed as {order}"


def test_the_place_in_words(store):
    for n in range(3):
        _queue(store, "ana", f"ana{n}")
    last = _queue(store, "ana", "ana3")
    store.register_worker("w1", "host", 1, 8)
    place = place_in_queue(store.as_owner("ana"), *last, max_per_owner=4)
    assert place == QueuePlace(3, False, 1, 4)
    assert place.sentence == "Waiting for a worker, 3 ahead of it."
    assert QueuePlace(0, False, 1, 4).sentence == "Waiting for a worker, next in line."
    held = QueuePlace(0, True, 1, 4).sentence
    assert "already have 4 analyses running" in held and "starts when one of them ends" in held
    nobody = QueuePlace(2, False, 0, 4).sentence
    assert "no worker is running" in nobody and "python -m lib.worker" in nobody
    assert place_in_queue(store, "no-such-run", 0, 4) is None


def test_workers_beat_drain_and_leave_and_the_admin_overview_lists_them(store):
    run_id, idx = _queue(store, "ana", "q")
    _queue(store, "bob", "q2")
    store.register_worker("w1", "box-1", 101, 8)
    store.register_worker("w2", "box-2", 102, 4)
    store.claim_turn("w1", 60, only=(run_id, idx))
    assert store.live_workers() == 2
    store.beat_worker("w2", draining=True)
    assert store.live_workers() == 1, "a draining worker claims nothing"
    overview = queue_overview(store)
    assert [(w.name, w.running, w.state) for w in overview.workers] == [("w2", 0, "draining"), ("w1", 1, "serving")]
    assert overview.queued == 1 and overview.live == 1
    later = queue_overview(store, now=store.workers()[0].last_beat + WORKER_GONE_LEASES * LEASE_SECONDS + 1)
    assert {w.state for w in later.workers} == {"gone"}
    store.remove_worker("w2")
    assert [w.name for w in store.workers()] == ["w1"]
    with pytest.raises(Exception, match="admin"):
        store.as_owner("bob").workers()
