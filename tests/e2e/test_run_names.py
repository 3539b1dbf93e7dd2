"""Run names in a real browser: the owner renames a run from its header and finds it by that name in the sidebar."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from lib.storage.store import Store
from tests.support.browser import App, emulator_app, shared, wait_for_app_run
from tests.support.pages import main, open_app
from tests.support.seed import seed_file, seed_run

pytestmark = pytest.mark.browser

QUESTION = "How do sales move?"


@pytest.fixture
def names_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app keyed to an emulator, with a data directory of its own for seeded runs."""
    return shared(_apps, "names", lambda: emulator_app(tmp_path_factory.mktemp("names")))


def test_rename_a_run_then_find_it_by_its_name_in_the_sidebar(page: Page, names_app: App, shot) -> None:
    store = Store(names_app.data_dir)
    sales = seed_file(store, "file_sales_names", "monthly_sales.csv")
    first = seed_run(store, QUESTION, [sales], datetime(2026, 11, 30, 9, 15).timestamp(), "November: 576 rows.")
    rerun = seed_run(store, QUESTION, [sales], datetime(2026, 12, 3, 14, 5).timestamp(), "December: 600 rows.")

    open_app(page, names_app, f"Analyze?run={first.id}")
    expect(main(page).get_by_role("heading", name=QUESTION)).to_be_visible()
    main(page).get_by_role("button", name=re.compile("Rename")).click()
    box = page.get_by_test_id("stPopoverBody").get_by_label("Name", exact=True)
    expect(box).to_have_value(QUESTION)
    box.fill("Sales, November data")
    box.press("Enter")  # submits the form, as Save name does
    wait_for_app_run(page)
    expect(main(page).get_by_role("heading", name="Sales, November data")).to_be_visible()
    shot("run_renamed", full_page=False)

    # from the rerun's page, the sidebar finds the renamed run by a word of its name and opens it
    open_app(page, names_app, f"Analyze?run={rerun.id}")
    expect(main(page).get_by_role("heading", name=QUESTION)).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    search = sidebar.get_by_label("Search runs", exact=True)
    search.fill("november")
    search.press("Enter")
    wait_for_app_run(page)
    expect(sidebar.get_by_text("1 run matches.")).to_be_visible()
    found = sidebar.get_by_role("button", name=re.compile("Sales, November data"))
    expect(found).to_have_count(1)
    expect(sidebar.get_by_text("2026-11-30 09:15 · monthly_sales.csv · done")).to_be_visible()
    expect(sidebar.get_by_text(re.compile("2026-12-03"))).to_have_count(0)
    shot("run_search", full_page=False)
    found.click()
    wait_for_app_run(page)
    expect(page).to_have_url(re.compile(rf"[?&]run={first.id}"))
    expect(main(page).get_by_role("heading", name="Sales, November data")).to_be_visible()
    expect(page.get_by_test_id("stChatMessage").nth(1)).to_contain_text("November: 576 rows.")
