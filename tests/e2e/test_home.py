"""Home page without any API key: the setup explanation, then the offline demo."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import wait_for_app_run
from tests.support.pages import main, open_app

pytestmark = pytest.mark.browser


def test_home_without_key_explains_setup_and_starts_demo(page: Page, no_key_app, shot) -> None:
    open_app(page, no_key_app)
    area = main(page)
    expect(area.get_by_role("heading", name="Claude Data Analyst")).to_be_visible()
    expect(area.get_by_text("No Anthropic API key is configured.")).to_be_visible()
    expect(area.get_by_text("ANTHROPIC_API_KEY").first).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("No API key yet.")).to_be_visible()
    shot("home_setup")

    area.get_by_role("button", name="Start the offline demo").click()
    wait_for_app_run(page)
    banner = area.get_by_text("You are in the offline demo.")
    expect(banner).to_be_visible()
    expect(area.get_by_test_id("stAlert").filter(has_text="offline demo")).to_contain_text("instead of Claude")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Offline demo.")).to_be_visible()
    expect(sidebar.get_by_test_id("stAlert").first).to_contain_text("not Claude")
    expect(area.get_by_text("No Anthropic API key is configured.")).to_have_count(0)
    # the sample datasets can now be analysed
    expect(area.get_by_role("button", name="Analyze").first).to_be_enabled()
    shot("home_demo")
