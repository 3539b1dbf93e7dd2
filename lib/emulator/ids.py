"""Id and timestamp helpers shaped like the real API's."""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

_ALPHABET = string.ascii_letters + string.digits

Clock = Callable[[], float]


class IdFactory:
    """Makes `prefix` + random base62 ids; deterministic when seeded."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self._lock = threading.Lock()

    def make(self, prefix: str, length: int = 21) -> str:
        """Return a fresh id such as `file_011…`."""
        with self._lock:
            return prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def file(self) -> str:
        return self.make("file_011")

    def container(self) -> str:
        return self.make("container_011")

    def message(self) -> str:
        return self.make("msg_01", 22)

    def tool_use(self) -> str:
        return self.make("srvtoolu_01", 22)

    def client_tool_use(self) -> str:
        return self.make("toolu_01", 22)

    def request(self) -> str:
        return self.make("req_011")


def rfc3339(ts: float) -> str:
    """Format epoch seconds as RFC 3339 UTC with a `Z` suffix."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(ts: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


system_clock: Clock = time.time
