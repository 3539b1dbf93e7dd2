"""Stop for a running turn, settable from any thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class Cancellable(Protocol):
    """Work another thread can stop (a running SQL query's handle)."""

    def cancel(self) -> None: ...


class StopSignal:
    """Stop for a turn, settable from any thread: it shuts the open response's connection, or cancels the
    running query, at once."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._open: Any = None
        self._work: Cancellable | None = None

    def stop(self) -> None:
        """Stop now: a blocked read of the open response fails at once instead of waiting for the network, and
        a running query is cancelled."""
        self._event.set()
        with self._lock:
            response, work = self._open, self._work
        if response is not None:
            _shut(response)
        if work is not None:
            work.cancel()

    def is_set(self) -> bool:
        """Whether Stop was asked for."""
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early on Stop; returns whether Stop was asked for."""
        return self._event.wait(seconds)

    @contextmanager
    def watching(self, response: Any) -> Iterator[None]:
        """While the block runs, Stop shuts `response` (an httpx response or an SDK stream)."""
        with self._lock:
            self._open = response
        try:
            if self.is_set():
                _shut(response)
            yield
        finally:
            with self._lock:
                self._open = None

    @contextmanager
    def cancelling(self, work: Cancellable) -> Iterator[None]:
        """While the block runs, Stop cancels `work`."""
        with self._lock:
            self._work = work
        try:
            if self.is_set():
                work.cancel()
            yield
        finally:
            with self._lock:
                self._work = None


def _shut(response: Any) -> None:
    """Shut a response's socket so the thread reading it wakes with an error; closing it waits on that thread."""
    raw = getattr(response, "response", response)
    stream = getattr(raw, "extensions", {}).get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        else:
            raw.close()
    except Exception:  # noqa: BLE001 - the connection may already be gone, which is what Stop wants
        pass
