"""Files page in Chromium: a sample of the hostile corpus dropped at once; each gets its message, the app keeps answering."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import VIEWPORT, wait_for_app_run
from tests.support.hostile import CASES, SLOW_SHEET_LIMIT
from tests.support.pages import main, open_app, sidebar_link

pytestmark = pytest.mark.browser

BY_ID = {c.id: c for c in CASES}
# The slow workbook goes first: the others are checked after it, in the same script run.
REFUSED = {
    "xlsx-slow-sheet": SLOW_SHEET_LIMIT,
    "xlsx-zip-bomb-1gib": "expands to 1.1 GB; the limit is 500.0 MB",
    "xlsx-malformed-sheet-xml": "is a damaged workbook",
    "csv-binary": "contains binary data, not CSV text",
    "png-bomb-header": "is too large an image",
}
ACCEPTED = ("json-deep-arrays", "name-path-traversal")
GOOD_CSV = ("regional_sales.csv", b"month,region,units\n2024-01-01,North,120\n2024-02-01,South,95\n2024-03-01,East,\n")
LONG_MS = 90_000  # the slow workbook alone takes its time limit (10 s and more for a big file); the page may wait for it and the rest


def payload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def test_hostile_sample_gets_messages_and_the_app_keeps_answering(page: Page, browser: Browser, fast_app, shot):
    files = [payload(BY_ID[i].name, BY_ID[i].make()) for i in (*REFUSED, *ACCEPTED)] + [payload(*GOOD_CSV)]
    open_app(page, fast_app)
    sidebar_link(page, "Files")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    expect(page.get_by_test_id("stFileChip")).to_have_count(len(files), timeout=LONG_MS)
    expect(page.get_by_text("Checking slow.xlsx")).to_be_visible(timeout=LONG_MS)

    # While this session waits for the slow workbook, another user's session loads and answers at once.
    other = browser.new_context(viewport=VIEWPORT)
    try:
        other_page = other.new_page()
        started = time.monotonic()
        open_app(other_page, fast_app)
        expect(other_page.get_by_role("heading", name="Claude Data Analyst")).to_be_visible()
        sidebar_link(other_page, "Files")
        expect(main(other_page).get_by_role("heading", name="Files")).to_be_visible()
        answered = time.monotonic() - started
    finally:
        other.close()
    assert page.get_by_text("Checking slow.xlsx").is_visible(), "the other session had to wait for the check"
    assert answered < 9, f"another session took {answered:.1f} s to load while a file was being checked"

    wait_for_app_run(page, timeout=LONG_MS)
    area = main(page)
    for case_id, words in REFUSED.items():
        name = BY_ID[case_id].name
        alert = area.get_by_test_id("stAlert").filter(has_text=f"{name} was not accepted")
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text(words)
    # accepted: the deep JSON is described as text, the traversal name is cleaned, the good CSV is previewed
    deep = area.get_by_test_id("stExpander").filter(has_text="deep.json")
    deep.locator("summary").first.click()
    expect(deep).to_contain_text("nested 100,000 levels deep")
    expect(area.get_by_test_id("stExpander").filter(has_text="will be uploaded as passwd.csv")).to_have_count(1)
    good = area.get_by_test_id("stExpander").filter(has_text=GOOD_CSV[0])
    good.locator("summary").first.click()
    expect(good.get_by_test_id("stMetric").filter(has_text="Rows")).to_contain_text("3")
    expect(good.get_by_test_id("stMetric").filter(has_text="Columns")).to_contain_text("3")
    expect(area.get_by_role("button", name="Upload 3 files to the Files API")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.content()
    shot("files_hostile_sample")
    assert "Traceback" not in fast_app.log()
