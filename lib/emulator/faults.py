"""Faults a test can inject: error statuses, cut or failing streams, slow streams, expiry."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["status", "cut", "stream_error", "slow", "expire_container"]


@dataclass
class Fault:
    """One injected failure, applied to the next `times` requests whose path matches `path`."""

    kind: FaultKind
    path: str = "/v1/messages"
    times: int = 1
    status: int | None = None
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    after_events: int = 3
    delay: float = 0.0

    def matches(self, path: str) -> bool:
        """Exact path, or a prefix when `path` ends with `*`."""
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def headers(self) -> dict[str, str]:
        """Retry headers for a `status` fault."""
        out: dict[str, str] = {}
        if self.retry_after is not None:
            out["retry-after"] = _num(self.retry_after)
        if self.retry_after_ms is not None:
            out["retry-after-ms"] = _num(self.retry_after_ms)
        if self.should_retry is not None:
            out["x-should-retry"] = "true" if self.should_retry else "false"
        return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class FaultQueue:
    """FIFO of faults; each request takes the oldest matching fault and uses up one of its `times`."""

    def __init__(self) -> None:
        self._faults: deque[list] = deque()
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append([fault, max(1, fault.times)])

    def take(self, path: str) -> Fault | None:
        """The fault to apply to a request on `path`, if any."""
        with self._lock:
            for entry in self._faults:
                if entry[0].matches(path):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._faults.remove(entry)
                    return entry[0]
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
