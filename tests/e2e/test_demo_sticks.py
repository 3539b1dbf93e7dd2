"""The offline demo sticks: after an analysis, a reload and a new tab stay in the demo on Analyze and Gallery."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import App, shared, start_app, wait_for_app_run
from tests.support.pages import main, open_app, sidebar_link, wait_until_finished

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app with no key, its own data directory (its demo runs must not show on other tests' home page)."""
    return shared(_apps, "demo-sticks", lambda: start_app(tmp_path_factory.mktemp("demo-sticks"), emulator=None))


def expect_in_demo(page: Page) -> None:
    """The sidebar says the demo is on, and the URL keeps it."""
    expect(page.get_by_test_id("stSidebar").get_by_text("Offline demo.", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]demo=1"))
    expect(main(page).get_by_text("No Anthropic API key is configured.")).to_have_count(0)


def chart_of(page: Page):
    """The run's chart in the answer, drawn interactively from the Vega-Lite spec the demo analyst saves."""
    return page.get_by_test_id("stChatMessage").nth(1).locator(".vega-embed canvas, .vega-embed svg")


def test_demo_survives_reload_and_new_tab_on_analyze_and_gallery(page: Page, demo_app: App, shot) -> None:
    open_app(page, demo_app)
    area = main(page)
    area.get_by_role("button", name="Start the offline demo").click()
    wait_for_app_run(page)
    expect_in_demo(page)
    # analyse a sample (one click asks its question) and see its chart
    area.get_by_role("button", name="Analyze").first.click()
    expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
    wait_until_finished(page)
    expect(chart_of(page).first).to_be_visible()
    run_url = page.url
    assert "demo=1" in run_url

    # reload the run: still the demo, the same run with its chart
    page.reload()
    wait_for_app_run(page)
    expect_in_demo(page)
    assert page.url == run_url
    expect(main(page).get_by_text("That run was not found")).to_have_count(0)
    expect(chart_of(page).first).to_be_visible()

    # the run's URL in a new tab: a new session, still the demo
    tab = page.context.new_page()
    tab.goto(run_url)
    wait_for_app_run(tab)
    expect_in_demo(tab)
    expect(chart_of(tab).first).to_be_visible()
    tab.close()

    # the gallery through the sidebar, then reloaded, then in a new tab from its sidebar link
    sidebar_link(page, "Gallery")
    expect_in_demo(page)
    expect(main(page).get_by_text("Nothing here yet.")).to_have_count(0)
    expect(main(page).get_by_test_id("stImage").first).to_be_visible()
    page.reload()
    wait_for_app_run(page)
    expect_in_demo(page)
    expect(main(page).get_by_test_id("stImage").first).to_be_visible()
    href = page.get_by_test_id("stSidebar").get_by_role("link", name=re.compile("Gallery$")).get_attribute("href")
    assert href and "demo=1" in href
    tab = page.context.new_page()
    tab.goto(href if href.startswith("http") else demo_app.url + "/" + href.lstrip("/"))
    wait_for_app_run(tab)
    expect_in_demo(tab)
    expect(main(tab).get_by_test_id("stImage").first).to_be_visible()
    shot("gallery_demo_new_tab")
    tab.close()

    # a fresh visit to the home page without the flag offers to continue
    fresh = page.context.new_page()
    fresh.goto(demo_app.url)
    wait_for_app_run(fresh)
    expect(main(fresh).get_by_text(re.compile(r"The offline demo has \d+ runs? kept\."))).to_be_visible()
    main(fresh).get_by_role("button", name="Continue the demo").click()
    wait_for_app_run(fresh)
    expect_in_demo(fresh)
    fresh.close()

    # Leave the demo: the only way out, and it stays out
    page.get_by_test_id("stSidebar").get_by_role("button", name="Leave the demo").click()
    wait_for_app_run(page)
    expect(page.get_by_test_id("stSidebar").get_by_text("Offline demo.", exact=True)).to_have_count(0)
    assert "demo=1" not in page.url
    sidebar_link(page, "Analyze")
    expect(main(page).get_by_text("No Anthropic API key is configured.")).to_be_visible()
