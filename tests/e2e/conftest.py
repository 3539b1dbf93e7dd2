"""Real-browser fixtures: `streamlit run app.py` on a free loopback port, driven by headless Debian Chromium.

Two server flavours:
  * pointed at an `Emulator` started in this pytest process (ANTHROPIC_API_KEY=test-key, ANTHROPIC_BASE_URL=emu.url);
  * no key at all (no ANTHROPIC_* variables, HOME in a temp dir, no secrets file anywhere).
Each server gets its own temporary ANALYST_DATA_DIR. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # each test module skips itself with pytest.importorskip; this file must still import
    Browser = Page = expect = None  # type: ignore[assignment,misc]

from lib.emulator import Pacing
from tests.support.browser import (
    MAX_SHOT_HEIGHT,
    SCREENSHOTS,
    SCROLL_HEIGHT_JS,
    VIEWPORT,
    WAIT_MS,
    App,
    emulator_app,
    shared,
    start_app,
)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (new Streamlit session) per test, 1280 px wide."""
    ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    # one patience for actions and assertions: the app, the emulator and Chromium share 2 busy cores in CI
    ctx.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    pg = ctx.new_page()
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:  # keep what the browser showed when it failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - the failure itself matters more than its picture
            pass
    ctx.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Expose each phase's report on the test item (rep_call) for the failure screenshot."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def _apps(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, App]]:
    # depends on `browser` so that no server is started when Chromium is missing
    apps: dict[str, App] = {}
    yield apps
    for app in apps.values():
        app.stop()


@pytest.fixture
def no_key_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app with no API key and no secrets."""
    return shared(_apps, "nokey", lambda: start_app(tmp_path_factory.mktemp("nokey"), emulator=None))


@pytest.fixture
def fast_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator that answers at once."""
    return shared(_apps, "fast", lambda: emulator_app(tmp_path_factory.mktemp("fast")))


@pytest.fixture
def paced_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator that streams like a person would see it (text chunks, slow code)."""
    return shared(
        _apps,
        "paced",
        lambda: emulator_app(tmp_path_factory.mktemp("paced"), Pacing(text_chunk_delay=0.03, code_delay=2.0)),
    )


@pytest.fixture
def slow_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator whose code steps take a long time (to press Stop mid-run)."""
    return shared(
        _apps,
        "slow",
        lambda: emulator_app(tmp_path_factory.mktemp("slow"), Pacing(text_chunk_delay=0.03, code_delay=60.0)),
    )


@pytest.fixture
def shot(page: Page) -> Callable[[str], Path]:
    """shot(name) writes a full-page screenshot to test-artifacts/screenshots/<name>.png (full_page=False: the
    viewport only, `height` px tall if given)."""

    def take(name: str, full_page: bool = True, height: int | None = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if not full_page:  # just the viewport (optionally a taller one), as scrolled now
            if height:
                page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
                page.wait_for_timeout(400)
            page.screenshot(path=str(path))
            if height:
                page.set_viewport_size(VIEWPORT)
                page.wait_for_timeout(200)
            return path
        # Streamlit scrolls inside <main>, not the document, so "full page" alone gives one viewport:
        # grow the viewport to the main area's height for the picture, then put it back.
        height = page.evaluate(SCROLL_HEIGHT_JS)
        height = min(max(int(height), VIEWPORT["height"]), MAX_SHOT_HEIGHT)
        if height > VIEWPORT["height"]:
            page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
            page.wait_for_timeout(400)
        page.screenshot(path=str(path), full_page=True)
        if height > VIEWPORT["height"]:
            page.set_viewport_size(VIEWPORT)
            page.wait_for_timeout(200)
        return path

    return take


def pytest_sessionstart(session: pytest.Session) -> None:
    """Failure pictures from an earlier run would mislead; drop them."""
    for old in SCREENSHOTS.glob("FAILED-*.png"):
        old.unlink(missing_ok=True)
