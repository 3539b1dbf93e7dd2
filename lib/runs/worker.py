"""A run worker: `python -m lib.worker` claims queued turns from the shared database and streams them.

Any number of workers, on any machine, share one queue (`SELECT … FOR UPDATE SKIP LOCKED`). Each renews the
lease of the turns it runs every fraction of a second and, in the same beat, reads which of them a replica
asked to stop. A worker that dies stops renewing; the next worker to look marks its runs interrupted, keeping
every item already received.

On SIGTERM or SIGINT (a deploy) a worker claims nothing more and lets its running turns finish for up to
`--drain` seconds (DRAIN_SECONDS), still renewing their leases and obeying Stop, then exits. It does not stop
the turns still running then, which would show the user's own 'Stopped' notice: it leaves them, and once
their lease runs out another worker marks their runs interrupted by a worker, keeping their items. A second
signal ends the drain at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from lib.runs.execute import start_local
from lib.settings import Settings, load_settings, read_secrets
from lib.storage import blobs
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import Claim
from lib.storage.store import Store
from lib.turn.stop import StopSignal

BEAT_SECONDS = 0.3  # lease renewal and stop polling: a Stop recorded anywhere lands within a second
POLL_SECONDS = 0.5  # how often an idle worker looks for queued turns
REAP_SECONDS = 2.0  # how often it looks for runs of dead workers
DRAIN_SECONDS = 20.0  # on SIGTERM, how long running turns may go on before the worker exits

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
        the beat (leases, stop requests, reaping) runs beside it until the end."""
        ended = threading.Event()
        beat = threading.Thread(target=self._beat, args=(ended,), daemon=True, name="worker-beat")
        beat.start()
        log.info("worker %s serving %s", self.name, self.store.location)
        while not self.done.is_set():
            self._forget_finished()
            claim = self.store.claim_turn(self.name, self.lease_seconds) if len(self.running) < self.capacity else None
            if claim is None:
                self.done.wait(POLL_SECONDS)
                continue
            self._start(claim)
        self._drain()
        ended.set()
        beat.join(self.lease_seconds)

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
            self.hurry.wait(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
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
        last_reap = 0.0
        while not ended.wait(BEAT_SECONDS):
            try:
                for key in self.store.heartbeat(self.name, self.lease_seconds):
                    found = self.running.get(key)
                    if found is not None and not found[1].is_set():
                        log.info("run %s turn %d: stop requested", *key)
                        found[1].stop()
                if time.monotonic() - last_reap > REAP_SECONDS:
                    last_reap = time.monotonic()
                    for run_id in self.store.reap_expired():
                        log.warning("run %s interrupted: its worker stopped renewing its lease", run_id)
            except Exception:  # a database hiccup must not end the beat; the lease has slack
                log.exception("worker beat failed")


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
        signal.signal(sig, lambda *_: worker.shut_down())
    worker.serve()
    if worker.running:  # turns left to their lease: end their threads now, not somewhere in interpreter shutdown
        logging.shutdown()
        os._exit(0)


if __name__ == "__main__":
    main()
