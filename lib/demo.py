"""The offline demo: one in-process emulator on loopback, shared by every session of this process."""

from __future__ import annotations

import os
import threading

from lib.emulator import Emulator, Pacing
from lib.settings import DEFAULT_MODEL

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
            _emulator = Emulator(pacing=pace, models=[DEFAULT_MODEL, "claude-opus-4-8", "claude-haiku-4-5"])
            _emulator.start()
        return _emulator.url


def running() -> bool:
    """Whether the demo server is up in this process."""
    return _emulator is not None
