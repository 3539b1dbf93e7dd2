"""Replay a finished run on a changed copy of its file, then compare: changed numbers, cell output, both charts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import REPO, App, emulator_app, shared, wait_for_app_run
from tests.support.pages import ask, main, open_app, seed_file, sidebar_link, wait_until_finished

pytestmark = pytest.mark.browser

SAMPLE = REPO / "samples" / "monthly_sales.csv"
HALF = 288  # rows in the changed copy (the sample has 576)
CHANGED = "monthly_sales_h1.csv"
FIRST = "Give me a first look at monthly_sales.csv"
SECOND = "What drives revenue? Show a chart."


@pytest.fixture
def replay_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app keyed to an emulator, its library holding the sample and a changed copy of it."""
    app = shared(_apps, "replay", lambda: emulator_app(tmp_path_factory.mktemp("replay")))
    if "files" not in app.extra:
        changed = Path(tmp_path_factory.mktemp("changed")) / CHANGED
        changed.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[: HALF + 1]))
        app.extra["files"] = (seed_file(app, SAMPLE), seed_file(app, changed))
    return app


def test_replay_on_a_changed_file_then_compare_numbers_output_and_charts(page: Page, replay_app: App, shot) -> None:
    open_app(page, replay_app)
    sidebar_link(page, "Analyze")
    ask(page, SAMPLE.name, FIRST)
    wait_until_finished(page)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(SECOND)
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    wait_until_finished(page)
    original_url = page.url

    main(page).get_by_role("button", name=re.compile("Replay on another file")).click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover).to_contain_text("Asks this run's 2 question(s) again")
    popover.get_by_label("In place of monthly_sales.csv").click()
    page.get_by_role("option", name=re.compile(CHANGED)).click()
    wait_for_app_run(page)
    expect(popover).to_contain_text("Same columns as monthly_sales.csv (5)")
    emulator = replay_app.emulator
    assert emulator is not None
    emulator.queue_script(emulator.planner(FIRST.replace(SAMPLE.name, CHANGED), [CHANGED]))
    # the second question holds after its first words: the page must have followed the replay on to it by then
    with emulator.held_analysis(SECOND, []):
        popover.get_by_role("button", name=re.compile("Start replay")).click()
        # a new run, linked to the original, asking the first question about the new file
        expect(page).not_to_have_url(original_url)
        expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
        messages = page.get_by_test_id("stChatMessage")
        expect(messages.first).to_contain_text(f"first look at {CHANGED}")
        expect(messages.nth(1)).to_contain_text(f"{CHANGED} has {HALF} rows")
        expect(messages.nth(2)).to_contain_text(SECOND)
        expect(messages.nth(3)).to_contain_text("earlier analysis")
        expect(main(page).get_by_text("2 of 2 question(s) asked")).to_be_visible()
        expect(main(page).get_by_role("button", name=re.compile("Stop$"))).to_be_visible()
        shot("replay_live", full_page=False)
    wait_until_finished(page)
    expect(messages.nth(3)).to_contain_text("earlier file(s) are still there")
    expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible()

    main(page).get_by_role("link", name=re.compile("Compare with the original")).click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
    body = main(page)
    expect(body).to_contain_text("Original:")
    expect(body).to_contain_text("Replay:")
    # the changed row count, with its change, in the numbers table
    row = body.get_by_test_id("stTable").locator("tr").filter(has_text=f"{CHANGED} has")
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text([f"{CHANGED} has … rows and", "576", str(HALF), "-288", "-50.0%"])
    expect(body.get_by_text(re.compile(r"quoted number\(s\) changed"))).to_be_visible()
    # the profile cell printed differently: its diff names both row counts
    diff = body.get_by_test_id("stCode").filter(has_text="-Rows: 576")
    expect(diff.first).to_contain_text(f"+Rows: {HALF}")
    # both runs' charts for both questions, side by side and interactive
    expect(body.get_by_role("heading", name="Question 2")).to_be_visible()
    charts = body.locator(".vega-embed")
    expect(charts).to_have_count(4)
    for n in range(4):
        expect(charts.nth(n).locator("canvas, svg").first).to_be_visible()
    for n in (0, 2):
        left, right = charts.nth(n).bounding_box(), charts.nth(n + 1).bounding_box()
        assert left and right and left["x"] < right["x"] and abs(left["y"] - right["y"]) < 40, (left, right)
    shot("compare_replay")

    # back on the original: its replay is listed, and the link opens the same comparison
    page.goto(original_url)
    wait_for_app_run(page)
    expect(main(page).get_by_role("link", name=re.compile("Compare with its replay"))).to_be_visible()
