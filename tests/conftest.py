"""Shared fixtures: a fresh emulator on loopback, a temporary data directory, settings and a store, and a throwaway
PostgreSQL cluster for the tests that need one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

try:
    from playwright.sync_api import Browser
except ImportError:  # the browser tests skip themselves; this file must still import
    Browser = None  # type: ignore[assignment,misc]

from lib.client import make_client
from lib.emulator import Emulator
from lib.settings import Settings, load_settings
from lib.storage.store import Store
from tests.support.services import Postgres, postgres_available

REPO = Path(__file__).resolve().parents[1]

# Property-based tests (marker `fuzz`) run the same examples every time: a fixed budget, a fixed seed, and the
# examples they ever found kept in the repository (replayed first on every run).
FUZZ_SEED = 20261130


class KeptExamples(DirectoryBasedExampleDatabase):
    """Hypothesis's example database in a folder, never forgetting: an example that once failed stays and is
    replayed on every run, after the bug it found is fixed (Hypothesis itself drops examples that pass)."""

    def delete(self, key: bytes, value: bytes) -> None:
        """Keep it."""

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        """Keep it where it is, and under `dest` too."""
        self.save(dest, value)


settings.register_profile(
    "repository",
    max_examples=100,
    database=KeptExamples(REPO / "tests" / "fuzz-examples"),
    deadline=None,  # a shared machine's pauses are not findings
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("repository")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every `fuzz` test draws its examples from the same seed, and replays the repository's examples first."""
    for item in items:
        test = getattr(item, "obj", None)
        if item.get_closest_marker("fuzz") and getattr(test, "is_hypothesis_test", False):
            test = getattr(test, "__func__", test)
            # hypothesis.seed() (and derandomize) would also switch the example database off, so the seed is set
            # the way seed() sets it, without that; the pinned Hypothesis version has this attribute.
            assert hasattr(test, "_hypothesis_internal_use_seed"), "Hypothesis no longer seeds tests this way"
            test._hypothesis_internal_use_seed = FUZZ_SEED


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator with no pacing, stopped after the test."""
    emu = Emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty data directory for the test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def settings(emulator: Emulator, data_dir: Path) -> Settings:
    """Settings pointing at the emulator, with fast retries."""
    env = {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": emulator.url,
        "ANALYST_DATA_DIR": str(data_dir),
        "ANALYST_MAX_RETRIES": "2",
    }
    return load_settings({}, env)


@pytest.fixture
def store(data_dir: Path) -> Store:
    """A store in the test's data directory."""
    return Store(data_dir)


@pytest.fixture
def client(settings: Settings) -> anthropic.Anthropic:
    """The app's own SDK client, pointed at the emulator."""
    return make_client(settings)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL cluster for the session (skipped where PostgreSQL is not installed)."""
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.fixture(autouse=True)
def _no_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the real API, whatever the developer's shell has set."""
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium, one for the whole session (Playwright's sync API allows one at a time)."""
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        why = f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)"
        if os.environ.get("E2E_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure, not a skip
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
