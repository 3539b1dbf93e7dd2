"""Faults a test can inject: error statuses, cut or failing streams, slow replies, refused containers, and
one-off changes to what the next turn produces."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

FaultKind = Literal[
    "status",
    "cut",
    "stream_error",
    "slow",
    "expire_container",
    "sparse_usage",
    "refuse_container",
    "container_expired_result",
    "not_downloadable",
]

# Kinds used up by what a turn produces (the next code step, the next generated file), not by a request.
TURN_KINDS = frozenset({"container_expired_result", "not_downloadable"})
MESSAGES = "/v1/messages"
CONTENT = "/v1/files/*/content"  # file downloads: `Fault("cut", path=CONTENT)` cuts the next one


@dataclass
class Fault:
    """One injected failure, applied to the next `times` requests whose path matches `path`.

    `path` is exact, or a glob (`*` matches anything, `/` included). Left empty it defaults to
    `/v1/messages`. Kinds:
    - `status`: an HTTP error `status` (`error_type`, `message`, retry headers) before anything is done.
    - `cut`: a stream closes after `after_events` events without its final chunk; any other reply (a file
      download on `CONTENT`, say) announces its whole Content-Length, sends half its body and closes.
    - `stream_error`: `event: error` of `error_type` (default overloaded_error) after `after_events` events;
      on a non-stream request, that type's HTTP status.
    - `slow`: `delay` seconds before each event of a stream, or before any other reply.
    - `expire_container`: the request's container expires now (the request then gets the expired-container 400).
    - `sparse_usage`: input and cache token counts only in `message_start`, not in `message_delta`.
    - `refuse_container`: only requests whose body has `container`; `status` 400 (default), 404 or 5xx.
    - `container_expired_result`: the next Python/Bash step returns a `container_expired` tool-result error
      instead of running, and the container is refused from then on.
    - `not_downloadable`: the next generated file is stored with `downloadable: false`.
    """

    kind: FaultKind
    path: str = ""
    times: int = 1
    status: int | None = None
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    retry_after_ms: float | None = None
    should_retry: bool | None = None
    after_events: int = 3
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not self.path:
            self.path = MESSAGES

    def matches(self, path: str) -> bool:
        """Whether the fault's path pattern covers `path`."""
        return fnmatchcase(path, self.path)

    def applies(self, path: str, has_container: bool) -> bool:
        """Whether a request on `path` (carrying a `container` or not) uses up this fault."""
        if self.kind in TURN_KINDS or not self.matches(path):
            return False
        if self.kind == "refuse_container":
            return has_container
        return True

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

    def take(self, path: str, has_container: bool = False) -> Fault | None:
        """The fault to apply to a request on `path`, if any."""
        return self._take(lambda f: f.applies(path, has_container))

    def take_kind(self, kind: FaultKind) -> Fault | None:
        """The oldest pending fault of a turn kind (`container_expired_result`, `not_downloadable`), if any."""
        return self._take(lambda f: f.kind == kind)

    def _take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        with self._lock:
            for entry in self._faults:
                if wanted(entry[0]):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        self._faults.remove(entry)
                    return entry[0]
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
