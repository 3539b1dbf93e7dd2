"""Results of sandbox tasks on untrusted content, kept so a page's rerun does not decode the same thing again.

A result is kept per version of a file (its path, size and modification time) or per distinct input (a digest
of the pickled arguments), in one bounded in-memory cache shared by every session of the server. A refusal is
kept too, so a hostile file costs its time limit once, not on every redraw; a refusal for going over a time or
memory limit is tried again after a while, as it may have come from a busy machine. Two sessions asking for
the same result at once share one sandbox call.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from lib.files import sandbox
from lib.limits import LIMITS

T = TypeVar("T")
RETRY_REFUSED_AFTER = 300.0  # seconds before a time or memory refusal is tried again
_OVERHEAD = 256  # bytes counted for each kept result besides its own size


@dataclass(frozen=True)
class Decoded(Generic[T]):
    """What a sandbox task made, or why it made nothing (in plain words, for a note beside the download)."""

    value: T | None
    problem: str = ""


@dataclass
class _Kept:
    result: Decoded[Any]
    size: int
    expires: float | None


class _Cache:
    """Results by key, least recently used dropped first once they weigh more than the limit."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()
        self._pending: dict[Hashable, Future[Decoded[Any]]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], tuple[Decoded[Any], int, float | None]]) -> Decoded[Any]:
        """The kept result for `key`, or make it (once, however many threads ask at the same time)."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and (kept.expires is None or kept.expires > time.monotonic()):
                self._kept.move_to_end(key)
                return kept.result
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = Future()
        assert pending is not None
        if not owner:
            return pending.result()
        try:
            result, size, expires = make()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
            self._put(key, _Kept(result, size + _OVERHEAD, expires))
        pending.set_result(result)
        return result

    def _put(self, key: Hashable, kept: _Kept) -> None:
        old = self._kept.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        if kept.size > self.max_bytes:
            return
        self._kept[key] = kept
        self._bytes += kept.size
        while self._bytes > self.max_bytes:
            _, dropped = self._kept.popitem(last=False)
            self._bytes -= dropped.size

    def clear(self) -> None:
        """Forget every kept result."""
        with self._lock:
            self._kept.clear()
            self._bytes = 0


_cache = _Cache(LIMITS.decoded_cache_bytes)


def clear() -> None:
    """Forget every kept result (tests, and after files were rewritten in place)."""
    _cache.clear()


def of_file(fn: Callable[..., T], path: Path, *args: Any, seconds: float | None = None) -> Decoded[T]:
    """fn(path, *args) run in the sandbox, once per version of the file; a missing file is a problem."""
    try:
        stat = path.stat()
    except OSError:
        return Decoded(None, "the file is no longer on disk")
    key = (sandbox.task_name(fn), str(path), stat.st_size, stat.st_mtime_ns, args)
    return _cache.get(key, lambda: _run(fn, (path, *args), seconds))


def of_value(fn: Callable[..., T], *args: Any, seconds: float | None = None) -> Decoded[T]:
    """fn(*args) run in the sandbox, once per distinct arguments (compared by a digest of their pickle)."""
    digest = hashlib.sha256(pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    return _cache.get((sandbox.task_name(fn), digest), lambda: _run(fn, args, seconds))


def _run(fn: Callable[..., T], args: tuple[Any, ...], seconds: float | None) -> tuple[Decoded[T], int, float | None]:
    """(result, its size, when to forget it) of one sandbox call; a task's own exception is its problem."""
    try:
        value, size = sandbox.pool().call_sized(fn, *args, seconds=seconds)
    except sandbox.LimitExceeded as exc:
        return Decoded(None, str(exc)), len(str(exc)), time.monotonic() + RETRY_REFUSED_AFTER
    except Exception as exc:  # noqa: BLE001 - whatever the task raised is a reason to show, never a crash
        problem = " ".join(str(exc).split())[:300] or type(exc).__name__
        return Decoded(None, problem), len(problem), None
    return Decoded(value), size, None
