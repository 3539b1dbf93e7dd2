"""Small actions shared by the browser scenarios: navigate like a person, seed a file, run an analysis."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from lib.settings import load_settings
from lib.storage.store import Store
from tests.support.browser import App, wait_for_app_run
from tests.support.runs import upload


def main(page: Page) -> Locator:
    """The main area (not the sidebar or the header)."""
    return page.get_by_test_id("stMainBlockContainer")


def open_app(page: Page, app: App, path: str = "") -> None:
    """Load a page of the app and wait for its first run."""
    page.goto(f"{app.url}/{path}")
    wait_for_app_run(page)


def sidebar_link(page: Page, name: str) -> None:
    """Click a page link in the sidebar navigation."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=re.compile(rf"{name}$")).click()
    wait_for_app_run(page)


def seed_file(app: App, path: Path) -> str:
    """Upload a file to the app's emulator and library through the lib API (setup, not the scenario)."""
    assert app.emulator is not None
    settings = load_settings(
        {},
        {
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": app.emulator.url,
            "ANALYST_DATA_DIR": str(app.data_dir),
        },
    )
    return upload(settings, Store(app.data_dir), path.name, path.read_bytes())


def pick_option(page: Page, label: str, option: str) -> None:
    """Choose an option in a multiselect or selectbox by its label."""
    page.get_by_label(label).click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    page.keyboard.press("Escape")
    wait_for_app_run(page)


def ask(page: Page, filename: str, question: str) -> None:
    """On a fresh Analyze page: choose the file, type the question and press Run analysis."""
    expect(page.get_by_role("heading", name="Analyze")).to_be_visible()
    pick_option(page, "Files to analyse", filename)
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Control+Enter")  # commit the text area (as leaving it would)
    wait_for_app_run(page)
    run = page.get_by_role("button", name="Run analysis")
    expect(run).to_be_enabled()
    run.click()
    # the page turns into the run's page: its id in the URL, the question as the first chat message
    expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"))
    expect(page.get_by_test_id("stChatMessage").first).to_contain_text(question.splitlines()[0])


def stop_button(page: Page) -> Locator:
    """The Stop button shown while a run is live."""
    return main(page).get_by_role("button", name=re.compile(r"Stop$"))


def wait_until_finished(page: Page, timeout: int = 60_000) -> None:
    """Wait for the live run to end (its Stop button goes away) and the page to settle."""
    expect(stop_button(page)).to_have_count(0, timeout=timeout)
    wait_for_app_run(page)


_STEADY = """([selector, frames, low, high, ms]) => new Promise((resolve, reject) => {
    // resolves once the measure has held for `frames` animation frames in a row (and within [low, high) if given)
    const measure = () => selector === null
        ? document.querySelector('[data-testid=stAppScrollToBottomContainer]')?.scrollHeight ?? 0
        : document.querySelector(selector).getBoundingClientRect().top;
    let last = measure(), held = 0;
    const until = performance.now() + ms;
    const tick = () => {
        if (performance.now() > until) return reject(new Error(`did not hold still: last measured ${last}`));
        const now = measure();
        const inBand = low === null || (now >= low && now < high);
        held = now === last && inBand ? held + 1 : 0;
        last = now;
        held >= frames ? resolve(now) : requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""


def wait_for_layout(page: Page, frames: int = 12, timeout: int = 10_000) -> None:
    """Wait until a page with a chat input has stopped growing or shrinking (an expander opening, a chart drawing):
    its scroll container's height has held."""
    page.evaluate(_STEADY, [None, frames, None, None, timeout])


def wait_for_top(page: Page, selector: str, low: float, high: float, frames: int = 20, timeout: int = 5_000) -> float:
    """Wait until the element's top edge has rested within [low, high) of the view for a run of frames."""
    return page.evaluate(_STEADY, [selector, frames, low, high, timeout])
