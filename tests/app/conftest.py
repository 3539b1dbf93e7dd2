"""App-level fixtures and helpers: the whole Streamlit app driven headless with AppTest against the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.emulator import Emulator
from lib.runs import jobs, threads
from tests.support.apptest import (
    APP,
    MediaCapture,
    run,
)


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Callable[..., AppTest]:
    """Build an AppTest of the whole app, keyed to an emulator (or with no key at all)."""
    monkeypatch.setenv("ANALYST_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")

    def build(emu: Emulator | None = None, **env: str) -> AppTest:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        at = AppTest.from_file(APP, default_timeout=30)
        if emu is not None:
            at.secrets["ANTHROPIC_API_KEY"] = "test-key"
            at.secrets["ANTHROPIC_BASE_URL"] = emu.url
        return at

    return build


@pytest.fixture
def keyless_app(make_app: Callable[..., AppTest]) -> Callable[[], AppTest]:
    """A fresh session of the app (not yet run) with no key anywhere, as a reload or a new tab gets it."""

    def build() -> AppTest:
        at = make_app()
        at.secrets["UNRELATED_SETTING"] = "1"  # a dummy secret keeps any secrets.toml on this machine out
        return at

    return build


@pytest.fixture
def app(make_app: Callable[..., AppTest], emulator: Emulator) -> AppTest:
    """The app on its home page, keyed to the fast emulator."""
    return run(make_app(emulator))


@pytest.fixture(autouse=True)
def _stop_leftover_runs() -> Iterator[None]:
    """Runs a test leaves streaming are stopped so threads do not outlive their emulator."""
    before = set(threads._jobs)
    yield
    for rid in set(threads._jobs) - before:
        job = threads.job_of(rid)
        if job is not None and job.alive:
            job.stop.stop()
            jobs.wait(rid, timeout=10)


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> MediaCapture:
    """Record media and deferred downloads the app registers (AppTest only exposes their URLs)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    capture = MediaCapture()
    real_add, real_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = real_add(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)
        data = Path(path_or_data).read_bytes() if isinstance(path_or_data, str) else bytes(path_or_data)
        capture.by_url[url] = (data, mimetype)
        capture.mimetypes[file_name or url] = mimetype
        return url

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        file_id = real_deferred(self, data_callable, mimetype, coordinates, file_name, element_id=element_id)
        capture.deferred[file_id] = data_callable
        capture.mimetypes[file_name or file_id] = mimetype
        return file_id

    monkeypatch.setattr(MediaFileManager, "add", add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return capture
