"""Traced numbers in the browser: a demo run whose answer states one number no cell printed shows it marked in
colour, the footer counts the traced ones, and the Numbers list links to the cell that printed each."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import REPO
from tests.support.pages import (
    ask,
    open_app,
    seed_file,
    sidebar_link,
    wait_for_layout,
    wait_for_top,
    wait_until_finished,
)

pytestmark = pytest.mark.browser

SAMPLE = REPO / "samples" / "monthly_sales.csv"
SCROLL_TO_END = """() => [...document.querySelectorAll('main, section, div')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    .forEach(e => { e.scrollTop = e.scrollHeight; })"""


def test_an_invented_number_is_marked_and_the_list_links_to_the_cell(page: Page, fast_app, shot) -> None:
    if "sample" not in fast_app.extra:
        fast_app.extra["sample"] = seed_file(fast_app, SAMPLE)
    open_app(page, fast_app)
    sidebar_link(page, "Analyze")
    ask(page, SAMPLE.name, "Forecast next month's units.")
    wait_until_finished(page)

    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer).to_contain_text("At that pace the next month should come in at 155.8.")
    marks = answer.locator(".stMarkdownColoredBackground")
    expect(marks).to_have_count(2)  # in the answer, and in the (closed) Numbers list
    mark = marks.first
    expect(mark).to_have_text("155.8")
    assert "rgba(0, 0, 0, 0)" not in mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert mark.evaluate("el => el.closest('[data-testid=stMarkdownContainer]').innerText").startswith(
        "Average units was 154.67"
    )  # the traced numbers of the same answer are not marked
    expect(answer.get_by_text(re.compile(r"output tokens · .* · 3 of 4 numbers traced$"))).to_be_visible()  # footer
    expect(answer.get_by_text(":orange-background[")).to_have_count(0)  # the directive renders, never shows raw

    answer.get_by_text("Numbers · 3 of 4 numbers traced").click()
    listed = answer.get_by_test_id("stExpander").filter(has_text="Numbers").locator("li")
    expect(listed).to_have_count(4)
    expect(listed.nth(0)).to_have_text("154.67 exact · cell 1.1, output line 4: 2024-12: 154.67")
    expect(listed.nth(3)).to_have_text("155.8 untraced: no output before it shows this number")
    shot("traced_numbers", full_page=False)

    heading = page.locator("#cell-1-1")
    expect(heading).to_have_text("Cell 1.1")
    wait_for_layout(page)  # the list has finished opening: while the page grows, Streamlit keeps it pinned to its end
    page.evaluate(SCROLL_TO_END)
    expect(heading).not_to_be_in_viewport()
    listed.nth(0).get_by_role("link", name="cell 1.1").click()
    expect(page).to_have_url(re.compile(r"#cell-1-1$"))
    wait_for_top(page, "#cell-1-1", 0, 100)  # scrolled to the top of the view, and stays there
    expect(heading).to_be_in_viewport()
