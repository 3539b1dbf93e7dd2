"""Analyze page: a streamed run with code, stdout and a chart; a follow-up; Stop; a reload mid-run."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import REPO, wait_for_app_run
from tests.support.pages import ask, main, open_app, seed_file, sidebar_link, stop_button, wait_until_finished

pytestmark = pytest.mark.browser

SAMPLE = REPO / "samples" / "monthly_sales.csv"


@pytest.fixture
def paced(paced_app):
    """The paced app with the sample in its library."""
    if "sample" not in paced_app.extra:
        paced_app.extra["sample"] = seed_file(paced_app, SAMPLE)
    return paced_app


def chat_messages(page: Page):
    """Assistant/user bubbles in the transcript."""
    return page.get_by_test_id("stChatMessage")


def test_streamed_run_with_chart_then_follow_up(page: Page, paced, shot) -> None:
    question = "Show the revenue trend over time"
    # the run cannot end before the test has seen its first words
    with paced.emulator.held_analysis(question, [SAMPLE.name]):
        open_app(page, paced)
        sidebar_link(page, "Analyze")
        ask(page, SAMPLE.name, question)

        # the run's id goes into the URL and the first words stream in while the run is still going
        expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
        expect(page.get_by_text("I'll load")).to_be_visible()
        expect(stop_button(page)).to_be_visible()
        expect(page.get_by_text(":blue[")).to_have_count(0)  # status labels render, not raw markup
        shot("analyze_streaming")

    wait_until_finished(page)
    answer = chat_messages(page).nth(1)
    expect(answer.get_by_test_id("stCode").first).to_contain_text("load_table")
    assert answer.get_by_test_id("stCode").count() >= 4  # two code cells and their stdout
    expect(answer.get_by_text("stdout").first).to_be_visible()
    expect(answer.get_by_test_id("stCode").filter(has_text="Rows:").first).to_be_visible()
    chart = answer.locator(".vega-embed").first  # drawn from the Vega-Lite spec saved beside the PNG
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    expect(answer.get_by_role("button", name=re.compile(r"\.png \(")).first).to_be_visible()  # the PNG, to download
    expect(answer).to_contain_text(f"{SAMPLE.name} has")  # the closing summary
    expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible()
    shot("analyze_chart")
    shot("analyze_chart_view", full_page=False, height=1250)  # the end of the answer as a person sees it

    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("Now check which columns move together")
    box.press("Enter")
    expect(chat_messages(page)).to_have_count(4)
    expect(chat_messages(page).nth(2)).to_contain_text("Now check which columns move together")
    expect(chat_messages(page).nth(3)).to_contain_text("earlier analysis")
    wait_until_finished(page)
    second = chat_messages(page).nth(3)
    expect(second).to_contain_text("earlier file(s) are still there")
    expect(second.locator(".vega-embed").first).to_be_visible()
    shot("analyze_follow_up")


def test_stop_keeps_the_partial_answer(page: Page, slow_app, shot) -> None:
    if "sample" not in slow_app.extra:
        slow_app.extra["sample"] = seed_file(slow_app, SAMPLE)
    open_app(page, slow_app, "Analyze")
    ask(page, SAMPLE.name, "Profile this table")
    partial = page.get_by_text("I'll load")
    expect(partial).to_be_visible()
    expect(page.get_by_test_id("stCode").first).to_contain_text("load_table")  # the first cell has begun
    stop_button(page).click()
    expect(page.get_by_text("Stopped. Everything received before you pressed Stop is kept.")).to_be_visible()
    expect(stop_button(page)).to_have_count(0)
    wait_for_app_run(page)
    expect(partial).to_be_visible()
    expect(main(page).get_by_text(re.compile(r"^●\s*stopped$"))).to_be_visible()
    # the run can still be continued with a follow-up
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    shot("analyze_stopped")


def test_reload_mid_run_keeps_following_the_run(page: Page, paced, shot) -> None:
    question = "Show the distribution of units"
    # the run stays live until the test has seen it live after the reload
    with paced.emulator.held_analysis(question, [SAMPLE.name]):
        open_app(page, paced, "Analyze")
        ask(page, SAMPLE.name, question)
        expect(page.get_by_text("I'll load")).to_be_visible()
        expect(stop_button(page)).to_be_visible()
        run_url = page.url
        assert "run=" in run_url

        page.reload()  # a new browser session; the run lives on in the server and the URL points at it
        wait_for_app_run(page)
        assert page.url == run_url
        expect(page.get_by_text("I'll load")).to_be_visible()
        expect(stop_button(page)).to_be_visible()  # still live after the reload
    # the rest of the answer streams into the reloaded page
    wait_until_finished(page)
    answer = chat_messages(page).nth(1)
    expect(answer).to_contain_text(f"{SAMPLE.name} has")
    expect(answer.locator(".vega-embed").first).to_be_visible()
    expect(main(page).get_by_text(re.compile(r"^●\s*done$"))).to_be_visible()
    shot("analyze_after_reload")


def test_a_page_at_rest_shows_a_follow_up_asked_in_another_tab(page: Page, paced) -> None:
    open_app(page, paced)
    sidebar_link(page, "Analyze")
    ask(page, SAMPLE.name, "How many rows are there?")
    wait_until_finished(page)
    expect(chat_messages(page)).to_have_count(2)
    other = page.context.new_page()  # a second tab: its own Streamlit session on the same run
    try:
        other.goto(page.url)
        wait_for_app_run(other)
        box = other.get_by_test_id("stChatInputTextArea")
        box.fill("Which month sold the most?")
        box.press("Enter")
        expect(other.get_by_test_id("stChatMessage")).to_have_count(4)
        # the first tab, left alone, follows the question asked in the other and shows its answer
        expect(chat_messages(page).nth(2)).to_contain_text("Which month sold the most?")
        wait_until_finished(page)
        expect(chat_messages(page)).to_have_count(4)
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    finally:
        other.close()
