"""Change signals: a write that someone may be waiting for is told to them, so nobody polls for it.

Four kinds: a run's items were written, a run's turn or status changed, the queue changed (a turn queued,
claimed or ended), a stop was requested for a run. With PostgreSQL a write sends them with `pg_notify` in its own
transaction (delivered when it commits), and each process holds one `LISTEN` connection, in a thread, that turns
notifications into signals here. With the embedded SQLite database every writer that matters is in this process,
so the writer raises the signal itself once it has committed.

A watcher takes a snapshot of the versions it cares about, reads the database, and later asks whether the
versions moved (or blocks until they do). `pushed` says whether signals can be trusted right now: a lost LISTEN
connection is retried with backoff, and until it is back watchers fall back to a slow poll. When it comes back,
every version moves once, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

ITEMS, STATE, QUEUE, STOP = "items", "state", "queue", "stop"
CHANNELS = {kind: f"analyst_{kind}" for kind in (ITEMS, STATE, QUEUE, STOP)}
KINDS = {channel: kind for kind, channel in CHANNELS.items()}
RECONNECT_FIRST, RECONNECT_MAX = 0.2, 10.0  # seconds before trying the LISTEN connection again, doubling
LISTENER_NAME = "analyst listener"  # its application_name, as pg_stat_activity shows it

Signal = tuple[str, str]  # (kind, run id; "" for the queue)

log = logging.getLogger("analyst.notify")


def items(run_id: str) -> Signal:
    """New or rewritten items of a run."""
    return (ITEMS, run_id)


def state(run_id: str) -> Signal:
    """A run's status, or one of its turns' status or usage, changed."""
    return (STATE, run_id)


def stop(run_id: str) -> Signal:
    """Someone asked for a run's turn to stop."""
    return (STOP, run_id)


QUEUE_CHANGED: Signal = (QUEUE, "")


class Signals:
    """Version numbers of what watchers of one database in this process wait for; safe between threads."""

    def __init__(self, pushed: bool) -> None:
        self._cond = threading.Condition()
        self._versions: dict[Signal, int] = {}
        self._epoch = 0  # moves every version at once (a reconnect: what was sent meanwhile is lost)
        self._pushed = pushed

    @property
    def pushed(self) -> bool:
        """Whether a change is told as it happens (else watchers poll slowly)."""
        return self._pushed

    def set_pushed(self, pushed: bool) -> None:
        """Note that signals now arrive (or no longer do); coming back moves every version once."""
        with self._cond:
            if pushed and not self._pushed:
                self._epoch += 1
            self._pushed = pushed
            self._cond.notify_all()

    def snapshot(self, *wanted: Signal) -> tuple[int, ...]:
        """The versions of `wanted` now, to compare with later."""
        with self._cond:
            return (self._epoch, *(self._versions.get(s, 0) for s in wanted))

    def raise_(self, signals: Iterable[Signal]) -> None:
        """Move the versions of `signals` and wake whoever waits for them."""
        with self._cond:
            for signal in signals:
                self._versions[signal] = self._versions.get(signal, 0) + 1
            self._cond.notify_all()

    def wait(self, wanted: tuple[Signal, ...], seen: tuple[int, ...], timeout: float) -> bool:
        """Block until one of `wanted` moved past `seen` (True) or `timeout` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.snapshot(*wanted) == seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


_signals: dict[str, Signals] = {}
_listeners: dict[str, Listener] = {}
_lock = threading.Lock()


def signals_for(engine: Engine) -> Signals:
    """This process's signals for a database; with PostgreSQL, its LISTEN thread is started on first use."""
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        found = _signals.get(key)
        if found is None:
            postgres = engine.dialect.name == "postgresql"
            found = _signals[key] = Signals(pushed=not postgres)
            if postgres:
                _listeners[key] = Listener(engine, found)
                _listeners[key].start()
    return found


def send(conn: Connection, signals: Iterable[Signal]) -> None:
    """Tell `signals` to every listener once the transaction of `conn` commits (PostgreSQL: one statement);
    nothing to do for SQLite, whose writer raises them after committing (`raise_local`)."""
    unique = list(dict.fromkeys(signals))
    if unique and conn.dialect.name == "postgresql":
        conn.execute(sa.select(*(sa.func.pg_notify(CHANNELS[kind], run_id) for kind, run_id in unique)))


def raise_local(engine: Engine, signals: Iterable[Signal]) -> None:
    """With the embedded database, raise `signals` in this process (after the write committed)."""
    if engine.dialect.name != "postgresql":
        signals_for(engine).raise_(signals)


def listener_for(engine: Engine) -> Listener | None:
    """This process's LISTEN thread for a PostgreSQL database, if one was started."""
    signals_for(engine)
    with _lock:
        return _listeners.get(engine.url.render_as_string(hide_password=False))


class Listener(threading.Thread):
    """One LISTEN connection per process and database: notifications become signals; a lost connection is
    retried with backoff, and meanwhile `Signals.pushed` is false."""

    def __init__(self, engine: Engine, signals: Signals) -> None:
        super().__init__(daemon=True, name="analyst-listener")
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        kwargs.pop("context", None)
        name = kwargs.get("application_name")
        self.connect_args: dict[str, Any] = {
            **kwargs,
            "application_name": f"{name} listener" if name else LISTENER_NAME,
            "autocommit": True,
            # a peer that vanished without closing the socket is noticed within about 20 s
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
        }
        self.signals = signals
        self.backend_pid = 0  # the server process serving the connection, while connected
        self.connects = 0  # how many times it connected (a test may cut it and wait for the next)
        self._stopping = threading.Event()

    def run(self) -> None:
        """Listen until the process ends, reconnecting with backoff."""
        import psycopg

        delay = RECONNECT_FIRST
        while not self._stopping.is_set():
            try:
                with psycopg.connect(**self.connect_args) as conn:
                    for channel in CHANNELS.values():
                        conn.execute(f"LISTEN {channel}")
                    self.backend_pid = conn.info.backend_pid
                    self.connects += 1
                    self.signals.set_pushed(True)
                    delay = RECONNECT_FIRST
                    while not self._stopping.is_set():
                        for note in conn.notifies(timeout=1.0):  # each as it arrives; the timeout checks stopping
                            self.signals.raise_([(KINDS[note.channel], note.payload)])
            except Exception as exc:  # noqa: BLE001 - any failure means: not pushed, try again later
                if self.signals.pushed:
                    log.warning("LISTEN connection lost (%s); pages poll every few seconds until it is back", exc)
            finally:
                self.backend_pid = 0
                self.signals.set_pushed(False)
            self._stopping.wait(delay)
            delay = min(delay * 2, RECONNECT_MAX)

    def close(self) -> None:
        """Stop listening (within a second)."""
        self._stopping.set()
