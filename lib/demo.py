"""The offline demo: one in-process emulator on loopback, shared by every session of this process."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from lib.emulator import Emulator, Pacing
from lib.settings import DEFAULT_MODEL, Settings
from lib.storage.store import Store

_lock = threading.Lock()
_emulator: Emulator | None = None


def demo_url() -> str:
    """Start the demo server if needed and return its base URL."""
    global _emulator
    with _lock:
        if _emulator is None:
            # ANALYST_DEMO_PACE=realistic makes the demo stream like a real model (benchmarks, screenshots)
            pace = (
                Pacing.realistic()
                if os.environ.get("ANALYST_DEMO_PACE") == "realistic"
                else Pacing(text_chunk_delay=0.01, code_delay=0.3)
            )
            _emulator = Emulator(
                pacing=pace, models=[DEFAULT_MODEL, "claude-opus-4-8", "claude-haiku-4-5"], record=False
            )
            _emulator.start()
        return _emulator.url


def running() -> bool:
    """Whether the demo server is up in this process."""
    return _emulator is not None


def data_dir(settings: Settings) -> Path:
    """Where the demo keeps its runs and files for these settings (apart from real ones)."""
    return settings.for_demo(base_url="").data_dir


def _store(settings: Settings) -> Store | None:
    folder = data_dir(settings)
    return Store(folder) if folder.is_dir() else None  # never create the demo's folder just to look


def run_count(settings: Settings) -> int:
    """How many demo runs are kept."""
    store = _store(settings)
    return store.count_runs() if store else 0


def has_run(settings: Settings, run_id: str) -> bool:
    """Whether a run id is one of the demo's."""
    store = _store(settings) if run_id else None
    return bool(store and store.run(run_id))


def wanted(*, has_key: bool, started: bool, left: bool, url_flag: bool, is_demo_run: Callable[[], bool]) -> bool:
    """Whether a browser session runs the demo: never with a real key; once started, or asked for by its URL
    (`?demo=1`), or, unless it was left in this session, when the URL opens one of the demo's runs."""
    if has_key:
        return False
    if started or url_flag:
        return True
    return not left and is_demo_run()
