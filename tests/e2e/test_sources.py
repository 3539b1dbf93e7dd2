"""A SQL source in a real browser: pick the demo source on Analyze, ask, and see each query inside the code cell
that made it, the answer and the chart; the Data page lists the source's tables."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import wait_for_app_run
from tests.support.pages import main, open_app, sidebar_link, wait_until_finished

pytestmark = [pytest.mark.browser, pytest.mark.sources]

QUESTION = "Which region had the most revenue last quarter? Show a chart."


def test_pick_the_demo_source_ask_and_see_the_queries_and_the_chart(page: Page, fast_app, shot) -> None:
    open_app(page, fast_app)
    sidebar_link(page, "Data")
    expect(main(page).get_by_text("demo · sqlite · 4 tables")).to_be_visible()
    expect(main(page).get_by_text("monthly_sales · table · about 576 rows")).to_be_visible()
    shot("data_sources", full_page=False)

    sidebar_link(page, "Analyze")
    expect(page.get_by_role("heading", name="Analyze")).to_be_visible()
    page.get_by_role("combobox", name="SQL sources to query").click()
    page.get_by_role("option", name="demo").click()
    page.keyboard.press("Escape")
    wait_for_app_run(page)
    box = page.get_by_label("Your question")
    box.fill(QUESTION)
    box.press("Control+Enter")
    wait_for_app_run(page)
    page.get_by_role("button", name="Run analysis").click()
    expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
    wait_until_finished(page)

    answer = page.get_by_test_id("stChatMessage").nth(1)
    queries = answer.get_by_text(re.compile(r"SQL on demo · \d+ rows? in "))
    expect(queries).to_have_count(3)
    # the query as it ran (the cell's f-string filled in), in its own box below the cell
    ran = answer.get_by_test_id("stCode").filter(
        has_text=re.compile(r"WHERE date >= '\d{4}-\d{2}-\d{2}' GROUP BY region")
    )
    expect(ran).to_be_visible()
    expect(answer.get_by_test_id("stCode").filter(has_text="Top region:").first).to_be_visible()  # its stdout
    chart = answer.locator(".vega-embed").first  # drawn from the spec saved beside the PNG
    expect(chart).to_be_visible()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    expect(answer).to_contain_text("had the most revenue last quarter")
    expect(main(page).get_by_text(re.compile(r"Sources: demo · 3 SQL queries · 17 rows"))).to_be_visible()
    # the picture for the README: the queries at the top, then what the cell printed and the chart
    queries.first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.move(700, 400)
    page.mouse.wheel(0, -200)
    page.wait_for_timeout(400)
    shot("analyze_sources", full_page=False, height=1400)
