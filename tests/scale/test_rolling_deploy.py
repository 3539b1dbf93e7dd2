"""A rolling deploy while runs go on: both workers and both replicas are replaced one at a time (SIGTERM, start
the new one, wait until it is healthy) while ten runs of three users stream and get follow-ups. No run is lost,
every turn that could finish within the drain finishes as done, and every open page reconnects by itself and
shows its run."""

from __future__ import annotations

import json
import re
import signal
import threading
import time

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, expect

from lib.emulator import Pacing
from lib.runs import jobs
from lib.runs.worker import DRAIN_SECONDS
from lib.storage.store import Store
from tests.support.browser import VIEWPORT, WAIT_MS
from tests.support.pages import main, open_app
from tests.support.runs import messages_requests, wait_for
from tests.support.team import Team

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

FOLLOW_UP = "And what comes next?"
# answers that last long enough to be in flight during the whole deploy, yet end well within a worker's drain
PACING = Pacing(first_token=(0.5, 1.5), answer_seconds=(6.0, 12.0))


class FollowUps(threading.Thread):
    """Users asking a follow-up as soon as each run's first answer is done, whichever worker and replica are up."""

    def __init__(self, runs: dict[str, Store], team: Team, asked: set[str]) -> None:
        super().__init__(daemon=True)
        self.runs, self.settings, self.asked = runs, team.settings(), asked
        self.stopping, self.errors = threading.Event(), []

    def run(self) -> None:
        while not self.stopping.is_set() and len(self.asked) < len(self.runs):
            for run_id, store in self.runs.items():
                if run_id not in self.asked and store.run(run_id).status == "done":
                    try:
                        jobs.start_turn(store, self.settings, run_id, FOLLOW_UP)
                    except Exception as exc:  # noqa: BLE001 - reported by the test
                        self.errors.append(exc)
                    self.asked.add(run_id)
            time.sleep(0.2)


def _follow_ups_sent(team: Team) -> int:
    """How many follow-up questions reached the API."""
    return sum(1 for r in messages_requests(team.emulator) if FOLLOW_UP in json.dumps(r.json["messages"][-1]))


def test_a_rolling_deploy_replaces_every_worker_and_replica_while_ten_runs_go_on(browser: Browser, team: Team) -> None:
    store, settings = team.store(), team.settings()
    owners = ["local"] * 4 + ["ana"] * 3 + ["bob"] * 3
    before, team.emulator.pacing = team.emulator.pacing, PACING
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in team.replicas]
    pages = [ctx.new_page() for ctx in contexts]
    for ctx in contexts:
        ctx.set_default_timeout(WAIT_MS)
    follow_ups = None
    try:
        runs: dict[str, Store] = {}
        for n, owner in enumerate(owners):
            mine = store if owner == "local" else store.as_owner(owner)
            runs[jobs.new_run(mine, settings, f"Question {n} of {owner}", []).id] = mine

        # the workers, one at a time, while they stream the first answers
        leaving, drained = [], 0
        for old in list(team.workers):
            team.wait_serving(old)
            drained += sum(w.running for w in store.workers() if w.pid == old.proc.pid)
            old.proc.send_signal(signal.SIGTERM)  # it claims nothing more and lets its turns finish
            team.wait_serving(team.add_worker())
            team.workers.remove(old)
            leaving.append(old)
        assert drained > 0, "the workers were replaced while they streamed turns"

        watched = list(runs)[:2]  # the local user's first two runs, one page on each replica
        for page, app, run_id in zip(pages, team.replicas, watched, strict=True):
            open_app(page, app, f"Analyze?run={run_id}")

        wait_for(lambda: all(store.run(r).status == "done" for r in watched), 120, "the watched runs' answers")
        with (
            team.emulator.held_analysis(FOLLOW_UP, []) as first_held,
            team.emulator.held_analysis(FOLLOW_UP, []) as second_held,
        ):
            # the watched runs' follow-ups are still going while the replicas are replaced; the pages, showing
            # the first answers, learn of them when they reconnect
            for run_id in watched:
                jobs.start_turn(store, settings, run_id, FOLLOW_UP)
            wait_for(lambda: _follow_ups_sent(team) == 2, 60, "the watched runs' follow-ups to reach the API")
            follow_ups = FollowUps(runs, team, asked=set(watched))  # the other users ask theirs as answers end
            follow_ups.start()
            for old in list(team.replicas):
                port = int(old.url.rsplit(":", 1)[1])
                old.proc.terminate()
                old.proc.wait(30)
                team.replicas.remove(old)
                team.add_replica(port=port)  # in its place behind the proxy; returns once healthy
            assert all(store.run(r).active for r in watched)
            first_held.set()
            second_held.set()
        for old in leaving:
            assert old.proc.wait(DRAIN_SECONDS + 30) == 0
            assert "still running at exit" not in old.log(), "a turn that could finish within the drain was cut"

        wait_for(lambda: len(follow_ups.asked) == len(runs), 120, "every run's follow-up to be asked")
        wait_for(lambda: not any(s.run(r).active for r, s in runs.items()), 120, "every run to finish")
        assert follow_ups.errors == []
        for run_id, mine in runs.items():
            assert [t.status for t in mine.turns(run_id)] == ["done", "done"], f"run {run_id} lost a turn"
            assert mine.run(run_id).status == "done" and mine.run(run_id).error == ""
        for page in pages:  # never reloaded: each reconnected by itself to the new replica on its address
            expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible(timeout=60_000)
            expect(main(page).get_by_text(FOLLOW_UP)).to_be_visible()
            expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    finally:
        if follow_ups is not None:
            follow_ups.stopping.set()
        team.emulator.pacing = before
        for ctx in contexts:
            ctx.close()
