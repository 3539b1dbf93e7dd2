"""Real-browser helpers: `streamlit run app.py` on a free loopback port, and what the browser tests wait on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
    workdir: Path,
    *,
    emulator: Emulator | None,
    env_extra: dict[str, str] | None = None,
    secrets_toml: str = "",
    port: int = 0,
) -> App:
    """Start the app in a subprocess with a clean environment and wait until it is healthy.

    With `emulator`, the app gets a key and the emulator's URL; without, it has no key at all.
    `secrets_toml` becomes the app's only secrets file (else it has none). `port` (else a free one) lets a new
    server take the place of one that stopped, as behind a proxy.
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
    port = port or free_port()
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


def shared(apps: dict[str, App], name: str, make: Callable[[], App]) -> App:
    if name not in apps:
        apps[name] = make()
    return apps[name]


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
