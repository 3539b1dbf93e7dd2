"""What a queued run says in Chromium: that no worker is running and what to start, then how many turns go
before it in the fair order, updating as they are claimed; and a page keeps streaming when its replica's LISTEN
connection is cut."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, expect

from lib.runs import jobs
from tests.support.browser import VIEWPORT, WAIT_MS
from tests.support.pages import main, open_app
from tests.support.team import Team

pytestmark = [pytest.mark.postgres, pytest.mark.browser]


def test_a_queued_run_says_no_worker_runs_then_how_many_go_first_as_they_are_claimed(
    browser: Browser, team: Team
) -> None:
    store, settings = team.store(), team.settings()
    for worker in list(team.workers):  # nothing running: each leaves at once and says so
        worker.stop()
        team.workers.remove(worker)
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    try:
        with (
            team.emulator.held_analysis("Ana's question", []) as ana_gate,
            team.emulator.held_analysis("Bob's question", []) as bob_gate,
        ):
            # two others queue first; none of the three is being served, so the oldest go first
            ana = jobs.new_run(store.as_owner("ana"), settings, "Ana's question", [])
            bob = jobs.new_run(store.as_owner("bob"), settings, "Bob's question", [])
            mine = jobs.new_run(store, settings, "Where does my question stand?", [])
            open_app(page, team.replicas[0], f"Analyze?run={mine.id}")
            waiting = main(page).get_by_text(re.compile(r"^hourglass_empty\s*Waiting"))
            expect(waiting).to_contain_text("no worker is running", timeout=45_000)  # a killed one ages out
            expect(waiting).to_contain_text("python -m lib.worker")

            team.add_worker(["--capacity", "1"])  # the operator starts one: it takes Ana's, Bob's waits
            expect(waiting).to_contain_text("Waiting for a worker, 1 ahead of it.", timeout=30_000)
            ana_gate.set()
            expect(waiting).to_contain_text("Waiting for a worker, next in line.", timeout=30_000)
            bob_gate.set()
            expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Let me see which files")).to_be_visible()  # the answer, with no files
        for run in (ana, bob):
            assert store.as_owner(run.owner).run(run.id).status == "done"
        # the admin page lists the workers: the one started, serving, and the queue's depth
        open_app(page, team.replicas[0], "Admin")
        workers = main(page).get_by_test_id("stDataFrame").last
        expect(workers).to_contain_text("serving")
        expect(main(page).get_by_text("0 question(s) waiting for a worker.")).to_be_visible()
    finally:
        context.close()
        for worker in list(team.workers):
            worker.stop()
            team.workers.remove(worker)
        for worker in (team.add_worker(), team.add_worker()):
            team.wait_serving(worker)


def test_a_page_keeps_streaming_when_its_replica_s_listen_connection_is_cut(browser: Browser, team: Team) -> None:
    store, settings = team.store(), team.settings()
    app = team.replicas[0]
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    question = "Stream on while the connection is cut"
    try:
        with team.emulator.held_analysis(question, []) as gate:
            run = jobs.new_run(store, settings, question, [])
            open_app(page, app, f"Analyze?run={run.id}")
            expect(page.get_by_text("Let me see which files")).to_be_visible()  # live, held after its first step
            with store.engine.begin() as conn:
                cut = conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %(name)s",
                    {"name": f"{app.extra['name']} listener"},
                ).all()
            assert cut, "the replica's LISTEN connection was found"
            gate.set()
            expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible(timeout=60_000)
            expect(page.get_by_text("none of them is a table")).to_be_visible()  # what came after the cut
    finally:
        context.close()
