"""Real-browser fixtures: `streamlit run app.py` on a free loopback port, driven by headless Debian Chromium.

Two server flavours:
  * pointed at an `Emulator` started in this pytest process (ANTHROPIC_API_KEY=test-key, ANTHROPIC_BASE_URL=emu.url);
  * no key at all (no ANTHROPIC_* variables, HOME in a temp dir, no secrets file anywhere).
Each server gets its own temporary ANALYST_DATA_DIR. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # each test module skips itself with pytest.importorskip; this file must still import
    Browser = Page = expect = None  # type: ignore[assignment,misc]

from lib.emulator import Emulator, Pacing

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 20_000  # how long an action or an assertion waits for the page
MAX_SHOT_HEIGHT = 4000
# the tallest scrolling area (Streamlit's main area; its test id differs on pages with a chat input)
SCROLL_HEIGHT_JS = """() => Math.max(0, ...[...document.querySelectorAll('main, section, div')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY)).map(e => e.scrollHeight))"""
# Variables that would point the app at a real API, a real data directory or another configuration.
SCRUBBED_PREFIXES = ("ANTHROPIC_", "ANALYST_", "STREAMLIT_")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    """A running `streamlit run app.py` and what it talks to."""

    url: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen
    emulator: Emulator | None = None
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the server (and its emulator)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.emulator is not None:
            self.emulator.stop()


def start_app(
    workdir: Path, *, emulator: Emulator | None, env_extra: dict[str, str] | None = None, secrets_toml: str = ""
) -> App:
    """Start the app in a subprocess with a clean environment and wait until it is healthy.

    With `emulator`, the app gets a key and the emulator's URL; without, it has no key at all.
    `secrets_toml` becomes the app's only secrets file (else it has none).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir, home = workdir / "data", workdir / "home"
    data_dir.mkdir(exist_ok=True)
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", ANALYST_DATA_DIR=str(data_dir), MPLBACKEND="Agg")
    if emulator is not None:
        env.update(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=emulator.url, ANALYST_MAX_RETRIES="1")
    env.update(env_extra or {})
    port = free_port()
    secrets_path = workdir / ("secrets.toml" if secrets_toml else "no-secrets.toml")
    if secrets_toml:
        secrets_path.write_text(secrets_toml)
    log_path = workdir / "server.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
            # no secrets.toml from the repo or a home directory may leak a key into the test
            "--secrets.files",
            str(secrets_path),
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    app = App(f"http://127.0.0.1:{port}", data_dir, log_path, proc, emulator)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(app.url + "/_stcore/health", timeout=1).text == "ok":
                return app
        except requests.RequestException:
            pass
        time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"streamlit did not start:\n{app.log()}")


def emulator_app(workdir: Path, pacing: Pacing = Pacing()) -> App:
    """An emulator in this process and the app pointed at it."""
    emu = Emulator(pacing=pacing)
    emu.start()
    try:
        return start_app(workdir, emulator=emu)
    except BaseException:
        emu.stop()
        raise


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


def _shared(apps: dict[str, App], name: str, make: Callable[[], App]) -> App:
    if name not in apps:
        apps[name] = make()
    return apps[name]


@pytest.fixture
def no_key_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app with no API key and no secrets."""
    return _shared(_apps, "nokey", lambda: start_app(tmp_path_factory.mktemp("nokey"), emulator=None))


@pytest.fixture
def fast_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator that answers at once."""
    return _shared(_apps, "fast", lambda: emulator_app(tmp_path_factory.mktemp("fast")))


@pytest.fixture
def paced_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator that streams like a person would see it (text chunks, slow code)."""
    return _shared(
        _apps,
        "paced",
        lambda: emulator_app(tmp_path_factory.mktemp("paced"), Pacing(text_chunk_delay=0.03, code_delay=2.0)),
    )


@pytest.fixture
def slow_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app pointed at an emulator whose code steps take a long time (to press Stop mid-run)."""
    return _shared(
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


def wait_for_app_run(page: Page, timeout: int = 25_000) -> None:
    """Wait until the script run started by the last action has finished and nothing is still loading."""
    page.wait_for_timeout(210)  # let a rerun triggered by the last action start
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=timeout
    )
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout)
    page.wait_for_timeout(100)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Failure pictures from an earlier run would mislead; drop them."""
    for old in SCREENSHOTS.glob("FAILED-*.png"):
        old.unlink(missing_ok=True)
