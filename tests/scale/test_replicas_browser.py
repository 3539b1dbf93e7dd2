"""Two replicas in Chromium: upload on A, run on B, watch it stream live from A, Stop from B, a follow-up's
chart in the gallery of both; a worker killed mid-run shows its run interrupted on both."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, expect

from lib.runs import jobs
from tests.support.browser import REPO, VIEWPORT, WAIT_MS, wait_for_app_run
from tests.support.pages import ask, main, open_app, sidebar_link, stop_button, wait_until_finished
from tests.support.team import Team

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

SAMPLE = REPO / "samples" / "monthly_sales.csv"


def test_run_on_b_watched_from_a_stopped_from_b_and_its_charts_in_both_galleries(browser: Browser, team: Team) -> None:
    a_app, b_app = team.replicas[0], team.replicas[1]
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    for ctx in contexts:
        ctx.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    a, b = (ctx.new_page() for ctx in contexts)
    try:
        # upload on replica A
        open_app(a, a_app)
        sidebar_link(a, "Files")
        a.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(SAMPLE)])
        wait_for_app_run(a)
        main(a).get_by_role("button", name=re.compile(r"^Upload 1 file")).click()
        wait_for_app_run(a)
        expect(main(a).get_by_text(f"{SAMPLE.name} uploaded")).to_be_visible()

        question = "Show the revenue trend over time"
        with team.emulator.held_analysis(question, [SAMPLE.name]):
            # run on replica B (its worker is elsewhere)
            open_app(b, b_app, "Analyze")
            ask(b, SAMPLE.name, question)
            run_id = re.search(r"run=([0-9a-f]+)", b.url).group(1)
            # watch it stream live from replica A
            open_app(a, a_app, f"Analyze?run={run_id}")
            expect(a.get_by_text("I'll load")).to_be_visible()
            expect(stop_button(a)).to_be_visible()
            # Stop from replica B; A sees the run stopped, with what it had received
            expect(stop_button(b)).to_be_visible()
            stop_button(b).click()
            expect(main(b).get_by_text(re.compile(r"^●\s*stopped$"))).to_be_visible()
            expect(main(a).get_by_text(re.compile(r"^●\s*stopped$"))).to_be_visible()
            expect(stop_button(a)).to_have_count(0)
            expect(a.get_by_text("I'll load")).to_be_visible()

        # a follow-up on B completes on a worker and its chart is in the gallery of both replicas
        box = b.get_by_test_id("stChatInputTextArea")
        box.fill("Now plot the revenue by month")
        box.press("Enter")
        expect(b.get_by_test_id("stChatMessage")).to_have_count(4)
        wait_until_finished(b)
        expect(main(b).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible()
        for page, app in ((a, a_app), (b, b_app)):
            open_app(page, app, "Gallery")
            thumb = main(page).get_by_test_id("stImage").locator("img").first
            expect(thumb).to_be_visible()
            assert page.evaluate("(el) => el.complete && el.naturalWidth", thumb.element_handle()) > 0
    finally:
        for ctx in contexts:
            ctx.close()


def test_a_worker_killed_mid_run_shows_the_run_interrupted_on_both_replicas(browser: Browser, team: Team) -> None:
    store, settings = team.store(), team.settings()
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    pages = [ctx.new_page() for ctx in contexts]
    question = "A long look at everything"
    sample = team.upload(SAMPLE)
    try:
        with team.emulator.held_analysis(question, [SAMPLE.name]):
            run = jobs.new_run(store, settings, question, [sample])
            for page, app in zip(pages, team.replicas, strict=True):
                open_app(page, app, f"Analyze?run={run.id}")
                expect(page.get_by_text("I'll load")).to_be_visible()  # live, with what has arrived
            state = store.turn_state(run.id)
            pid = state.worker.split(":")[1]
            victim = next(w for w in team.workers if str(w.proc.pid) == pid)
            victim.kill()
            for page in pages:  # no reload: each live page notices by itself
                expect(main(page).get_by_text(re.compile(r"^●\s*interrupted$"))).to_be_visible(timeout=30_000)
                expect(page.get_by_text("I'll load")).to_be_visible()  # the received items are kept
        team.workers.remove(victim)
        team.add_worker()  # the session goes on with two
        jobs.start_turn(store, settings, run.id, "Go on, please")
        assert jobs.wait(run.id, 60, store=store)
        assert store.run(run.id).status == "done"
        assert store.turn_state(run.id).worker.split(":")[1] != pid, "the follow-up ran on another worker"
    finally:
        for ctx in contexts:
            ctx.close()
