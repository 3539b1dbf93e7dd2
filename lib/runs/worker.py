"""A run worker: `python -m lib.worker` claims queued turns from the shared database and streams them.

Any number of workers, on any machine, share one queue (`SELECT … FOR UPDATE SKIP LOCKED`, fair across users,
at most ANALYST_MAX_RUNNING_PER_USER turns of one user at once). A worker waits on its LISTEN connection
(lib/storage/notify.py) for turns to be queued or to end, and for Stop requests, so an idle worker costs the
database almost nothing: its own beat (its row in `workers`, which tells pages that a worker is alive) and a
look for runs of dead workers, every few seconds. While it streams turns it renews their lease every few
seconds. When the LISTEN connection is lost it looks for turns and stop requests on a short timer until it
is back. A worker that dies stops renewing; the next worker to look marks its runs interrupted, keeping every
item already received.

On SIGTERM or SIGINT (a deploy) a worker claims nothing more and lets its running turns finish for up to
`--drain` seconds (DRAIN_SECONDS), still renewing their leases and obeying Stop, then exits. It does not stop
the turns still running then, which would show the user's own 'Stopped' notice: it leaves them, and once
their lease runs out another worker marks their runs interrupted by a worker, keeping their items. A second
signal ends the drain at once.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from lib.client import MissingKeyError, make_client
from lib.runs.execute import start_local
from lib.settings import Settings, load_settings, read_secrets
from lib.storage import blobs, notify
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import Claim
from lib.storage.store import Store
from lib.turn.stop import StopSignal

BEAT_SECONDS = LEASE_SECONDS / 4  # lease renewal while streaming; a Stop arrives as a signal at once
IDLE_BEAT_SECONDS = LEASE_SECONDS  # an idle worker's own beat (pages take a worker silent for 3 leases for gone)
REAP_SECONDS = 5.0  # how often a worker looks for runs of dead workers
SAFETY_CLAIM_SECONDS = 30.0  # a look for queued turns even without a signal
FALLBACK_SECONDS = 0.5  # while the LISTEN connection is lost: how often to look for queued turns and stops
DRAIN_SECONDS = 20.0  # on SIGTERM, how long running turns may go on before the worker exits
SLICE_SECONDS = 1.0  # waits are cut in slices this long, to notice a shutdown

log = logging.getLogger("analyst.worker")


@dataclass
class Worker:
    """Claims queued turns and runs up to `capacity` of them at once, each in its own thread."""

    store: Store  # admin view: the queue looks across owners
    settings: Settings
    capacity: int = 8
    name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    lease_seconds: float = LEASE_SECONDS
    drain_seconds: float = DRAIN_SECONDS
    running: dict[tuple[str, int], tuple[threading.Thread, StopSignal]] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)  # set: claim no more, drain, return
    hurry: threading.Event = field(default_factory=threading.Event)  # set: end the drain now

    def serve(self) -> None:
        """Claim and run turns until `done` is set, then let running turns finish for up to `drain_seconds`;
        the beat (leases, stop requests, the worker's own row, reaping) runs beside it until the end."""
        signals = self.store.signals  # with PostgreSQL this starts the LISTEN thread
        with contextlib.suppress(MissingKeyError):  # built now, so the first turn does not wait for it
            make_client(self.settings)
        self.store.register_worker(self.name, socket.gethostname(), os.getpid(), self.capacity)
        ended = threading.Event()
        beat = threading.Thread(target=self._beat, args=(ended,), daemon=True, name="worker-beat")
        beat.start()
        log.info("worker %s serving %s", self.name, self.store.location)
        try:
            self._claim_loop(signals)
            self._drain()
        finally:
            ended.set()
            beat.join(self.lease_seconds)
            try:
                self.store.remove_worker(self.name)
            except Exception:
                log.exception("could not remove the worker's row")

    def _claim_loop(self, signals: notify.Signals) -> None:
        """Claim while there is room, then wait for the queue to change (a turn queued, claimed or ended)."""
        seen: tuple[int, ...] | None = None
        next_look = 0.0
        while not self.done.is_set():
            self._forget_finished()
            now = time.monotonic()
            snap = signals.snapshot(notify.QUEUE_CHANGED)
            if len(self.running) < self.capacity and (snap != seen or now >= next_look):
                seen = snap  # taken before the look: a change during it is seen on the next round
                claim = self.store.claim_turn(
                    self.name, self.lease_seconds, max_per_owner=self.settings.max_running_per_user
                )
                if claim is not None:
                    self._start(claim)
                    seen = None  # there may be more
                    continue
                next_look = now + (SAFETY_CLAIM_SECONDS if signals.pushed else FALLBACK_SECONDS)
            signals.wait((notify.QUEUE_CHANGED,), snap, min(SLICE_SECONDS, max(0.0, next_look - now)))

    def shut_down(self) -> None:
        """Stop claiming and drain (first call); end the drain at once (second call)."""
        if self.done.is_set():
            self.hurry.set()
        self.done.set()

    def _drain(self) -> None:
        """Wait up to `drain_seconds` for the running turns to finish; those still running are left as they are."""
        deadline = time.monotonic() + self.drain_seconds
        self._forget_finished()
        if self.running:
            log.info("draining: %d turn(s) running, waiting up to %.0f s", len(self.running), self.drain_seconds)
        while self.running and time.monotonic() < deadline and not self.hurry.is_set():
            self.hurry.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            self._forget_finished()
        for run_id, idx in self.running:
            log.warning("run %s turn %d still running at exit: left to its lease, then marked interrupted", run_id, idx)

    def _start(self, claim: Claim) -> None:
        log.info("run %s turn %d claimed", claim.run_id, claim.idx)
        job = start_local(self.store, self.settings, claim)
        assert job.thread is not None
        self.running[(claim.run_id, claim.idx)] = (job.thread, job.stop)

    def _forget_finished(self) -> None:
        for key, (thread, _stop) in list(self.running.items()):
            if not thread.is_alive():
                del self.running[key]

    def _beat(self, ended: threading.Event) -> None:
        """Renew leases while streaming (and read stop requests at once when one is signalled); otherwise beat the
        worker's own row; reap on a slow timer. Nothing here touches the database between those times."""
        signals = self.store.signals
        handled: dict[str, int] = {}  # run → the stop signal's version last acted on
        next_lease = next_idle = next_reap = 0.0
        draining = False
        while not ended.is_set():
            runs = sorted({run_id for run_id, _ in list(self.running)})
            stops = tuple(notify.stop(r) for r in runs)
            snap = signals.snapshot(*stops)
            stop_news = any(v != handled.get(r, 0) for r, v in zip(runs, snap[1:], strict=True))
            now = time.monotonic()
            try:
                if runs and (stop_news or now >= next_lease or self.done.is_set() != draining):
                    draining = self.done.is_set()
                    self._renew(draining)
                    handled.update(zip(runs, snap[1:], strict=True))
                    next_lease = now + (BEAT_SECONDS if signals.pushed else FALLBACK_SECONDS)
                elif not runs and (now >= next_idle or self.done.is_set() != draining):
                    draining = self.done.is_set()
                    self.store.beat_worker(self.name, draining)
                    next_idle = now + IDLE_BEAT_SECONDS
                if now >= next_reap:
                    next_reap = now + REAP_SECONDS
                    for run_id in self.store.reap_expired():
                        log.warning("run %s interrupted: its worker stopped renewing its lease", run_id)
            except Exception:  # a database hiccup must not end the beat; the lease has slack
                log.exception("worker beat failed")
            due = min(next_reap, next_lease if runs else next_idle)
            signals.wait(stops, snap, min(SLICE_SECONDS, max(0.0, due - time.monotonic())))

    def _renew(self, draining: bool) -> None:
        """Renew the leases of the running turns and stop those a replica asked to stop."""
        for key in self.store.heartbeat(self.name, self.lease_seconds, draining):
            found = self.running.get(key)
            if found is not None and not found[1].is_set():
                log.info("run %s turn %d: stop requested", *key)
                found[1].stop()


def worker_settings() -> Settings:
    """The worker's settings: the `.streamlit/secrets.toml` files, then the environment (as the app)."""
    return load_settings(read_secrets(), os.environ)


def main(argv: list[str] | None = None) -> None:
    """Serve the queue of the configured shared database until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description="Run analyses queued by the app's replicas.")
    parser.add_argument("--capacity", type=int, default=8, help="turns streamed at once (default 8)")
    parser.add_argument(
        "--drain",
        type=float,
        default=DRAIN_SECONDS,
        help=f"on SIGTERM or SIGINT, seconds running turns may take to finish (default {DRAIN_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = worker_settings()
    if not settings.database_url:
        raise SystemExit(
            "ANALYST_DATABASE_URL is not set: with the embedded SQLite default the app runs its analyses itself. "
            "Set it to the team's PostgreSQL (postgresql+psycopg://…) to run workers."
        )
    blobs.configure(settings.data_dir, settings.blob_url)
    store = Store(settings.data_dir, url=settings.database_url)
    worker = Worker(store, settings, capacity=args.capacity, drain_seconds=args.drain)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.shut_down())  # the waits above are cut in slices: seen within 1 s
    worker.serve()
    if worker.running:  # turns left to their lease: end their threads now, not somewhere in interpreter shutdown
        logging.shutdown()
        os._exit(0)


if __name__ == "__main__":
    main()
