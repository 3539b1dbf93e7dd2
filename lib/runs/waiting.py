"""Where a queued turn stands with a shared database: its place in the fair order, whether any worker is alive to
take it, and the workers and queue as the admin page lists them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from lib.storage.queue import LEASE_SECONDS, WORKER_GONE_LEASES, turns_ahead
from lib.storage.records import WorkerRecord
from lib.storage.store import Store

START_WORKER = "python -m lib.worker"


@dataclass(frozen=True)
class QueuePlace:
    """A queued turn's place: how many turns go before it, whether its owner's share holds it back, and how many
    workers are alive to claim it."""

    ahead: int
    held_by_share: bool
    live_workers: int
    max_per_owner: int

    @property
    def sentence(self) -> str:
        """What the page says while the turn waits."""
        if not self.live_workers:
            return (
                "Waiting for a worker, but no worker is running: nothing has claimed work for a while. It starts "
                f"as soon as one does. Ask whoever runs this app to start a run worker (`{START_WORKER}`, with the "
                "app's settings)."
            )
        if self.held_by_share:
            return (
                f"Waiting: you already have {self.max_per_owner} analyses running, the most one person may run at "
                "once. This one starts when one of them ends."
            )
        if self.ahead == 0:
            return "Waiting for a worker, next in line."
        return f"Waiting for a worker, {self.ahead} ahead of it."


def place_in_queue(store: Store, run_id: str, idx: int, max_per_owner: int) -> QueuePlace | None:
    """Where a readable run's queued turn stands (one statement); None when it is not queued."""
    snapshot = store.queue_snapshot()
    found = turns_ahead(snapshot, run_id, idx, max_per_owner)
    if found is None:
        return None
    ahead, held = found
    return QueuePlace(ahead, held, snapshot.live_workers, max_per_owner)


@dataclass(frozen=True)
class WorkerRow:
    """One worker as the admin page shows it."""

    name: str
    host: str
    pid: int
    running: int
    capacity: int
    beat_seconds_ago: float
    state: str  # "serving", "draining" or "gone"


@dataclass(frozen=True)
class QueueOverview:
    """The workers and how many turns wait for one."""

    workers: list[WorkerRow]
    queued: int

    @property
    def live(self) -> int:
        """How many workers are serving."""
        return sum(1 for w in self.workers if w.state == "serving")


def queue_overview(store: Store, now: float | None = None) -> QueueOverview:
    """Every worker that announced itself (newest beat first) and the queue's depth (admins)."""
    now = time.time() if now is None else now
    rows = [_row(w, now, WORKER_GONE_LEASES * LEASE_SECONDS) for w in store.workers()]
    return QueueOverview(rows, store.queue_depth())


def _row(worker: WorkerRecord, now: float, gone_after: float) -> WorkerRow:
    ago = max(0.0, now - worker.last_beat)
    state = "gone" if ago > gone_after else "draining" if worker.draining else "serving"
    return WorkerRow(worker.name, worker.host, worker.pid, worker.running, worker.capacity, ago, state)
