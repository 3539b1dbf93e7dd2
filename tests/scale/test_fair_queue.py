"""The fair queue on PostgreSQL: claims go round-robin across users, concurrent claims never take a turn twice
nor more than a user's share, and with the real workers a user never runs more than their share at once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from lib.emulator import Pacing
from lib.runs import jobs
from lib.storage.db import turns
from lib.storage.store import Store
from tests.support.runs import wait_for
from tests.support.team import Team

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def quiet(team: Team) -> Store:
    """A database of the team's cluster that no worker serves: the test claims by itself."""
    return Store(team.root / "quiet", url=team.pg.create("quiet"))


def _queue(store: Store, owner: str, question: str) -> tuple[str, int]:
    mine = store.as_owner(owner)
    run = mine.create_run(question, "m", "t", [])
    return run.id, mine.add_turn(run.id, question, [], request={"question": question})


def test_three_users_are_served_round_robin_each_oldest_first(quiet: Store) -> None:
    for n in range(5):
        _queue(quiet, "heavy", f"heavy{n}")
    _queue(quiet, "light", "light0")
    _queue(quiet, "light", "light1")
    _queue(quiet, "third", "third0")
    order = []
    while (claim := quiet.claim_turn("w", 60)) is not None:
        order.append(claim.request["question"])
    assert order == ["heavy0", "light0", "third0", "heavy1", "light1", "heavy2", "heavy3", "heavy4"]


def test_concurrent_claims_never_take_a_turn_twice_nor_more_than_a_user_s_share(quiet: Store) -> None:
    queued = {_queue(quiet, owner, f"{owner}{n}") for owner in ("ana", "bob", "cy") for n in range(6)}
    claimed: list[tuple[str, str]] = []
    lock, go = threading.Lock(), threading.Event()

    def worker(name: str) -> None:
        go.wait()
        while (claim := quiet.claim_turn(name, 60, max_per_owner=2)) is not None:
            with lock:
                claimed.append((claim.owner, claim.run_id))

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join(60)
    assert len({run_id for _, run_id in claimed}) == len(claimed), "no turn was claimed twice"
    assert Counter(owner for owner, _ in claimed) == {"ana": 2, "bob": 2, "cy": 2}, "each user's share, exactly"
    assert len(queued) - len(claimed) == 12


def _running(store: Store, run_ids: list[str]) -> int:
    """How many of these runs' turns are running, as of one moment."""
    query = sa.select(sa.func.count()).where(turns.c.run_id.in_(run_ids), turns.c.status == "running")
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def test_the_workers_run_at_most_a_user_s_share_at_once_and_the_rest_after(team: Team) -> None:
    store, settings = team.store(), team.settings()
    share = settings.max_running_per_user
    team.emulator.pacing, before = Pacing(answer_seconds=(3.0, 3.0)), team.emulator.pacing
    try:
        runs = [jobs.new_run(store, settings, f"Question {n}", []).id for n in range(share + 2)]
        most = 0
        deadline = time.monotonic() + 120
        while any(store.run(r).active for r in runs):
            assert time.monotonic() < deadline, "the runs did not finish"
            running = _running(store, runs)  # in one statement: turns read one by one could overlap in time
            most = max(most, running)
            assert running <= share, f"more than {share} of one user's turns ran at once"
            time.sleep(0.05)
        assert most == share, "the workers did run a full share at once"
        wait_for(lambda: all(store.run(r).status == "done" for r in runs), 10, "every run done")
    finally:
        team.emulator.pacing = before
