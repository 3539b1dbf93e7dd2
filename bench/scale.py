"""20 concurrent runs across 2 run workers on PostgreSQL against the same 20 runs on the embedded default.

Starts a throwaway PostgreSQL cluster, moto's S3 server and an emulator paced like a model, then:
  * team: 20 runs enqueued at once, streamed by two `python -m lib.worker` processes;
  * embedded: the same 20 runs in this process's threads on SQLite (the single-user default).
For each: wall time until all are done, runs per minute, and what one watching page costs the database
(statements per second, and item rows read per second, with the watermark query against a full reload of
the live turn per poll). Prints figures; asserts nothing. `python bench/scale.py`
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from lib.emulator import Emulator, Pacing
from lib.runs import jobs
from lib.runs.view import Follower, refresh_turn
from lib.settings import load_settings
from lib.storage.store import Store
from tests.support.services import Postgres, S3Server, WorkerProc

RUNS = 20
POLL = 0.1  # the live view's poll interval


def watch(store: Store, run_id: str, prices, watermark: bool) -> tuple[int, int, float]:
    """Poll one run like the live view until it ends; returns (statements, item rows read, seconds)."""
    me = threading.get_ident()
    count = [0]

    def _count(*_args) -> None:
        if threading.get_ident() == me:
            count[0] += 1

    sa.event.listen(store.engine, "before_cursor_execute", _count)
    rows, live, start = 0, None, time.monotonic()
    try:
        while True:
            run = store.run(run_id)
            state = store.turn_state(run_id)
            if state is None:
                time.sleep(POLL)
                continue
            if watermark:
                live = live if live is not None and live.turn_idx == state.idx else Follower(run_id, state.idx)
                before = dict(live.seen)
                view = refresh_turn(store, run, live, prices)
                rows += sum(1 for k, v in live.seen.items() if before.get(k) is not v)
            else:
                view = refresh_turn(store, run, Follower(run_id, state.idx), prices)  # a fresh page: every item read
                rows += len(view.items) if view else 0
            if not jobs.is_active(run_id, store) and state.status not in ("queued", "running"):
                break
            time.sleep(POLL)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", _count)
    return count[0], rows, time.monotonic() - start


def batch(store: Store, settings, label: str) -> None:
    """Enqueue RUNS runs at once, watch two of them (watermark and full reload), wait for all."""
    start = time.monotonic()
    run_ids = [jobs.new_run(store, settings, f"Show the revenue trend over time ({n})", []).id for n in range(RUNS)]
    results: dict[str, tuple[int, int, float]] = {}
    watchers = [
        threading.Thread(target=lambda w=w, r=r: results.__setitem__(w, watch(store, r, settings.prices, w == "wm")))
        for w, r in (("wm", run_ids[0]), ("full", run_ids[1]))
    ]
    for t in watchers:
        t.start()
    for run_id in run_ids:
        jobs.wait(run_id, 600, store=store)
    wall = time.monotonic() - start
    for t in watchers:
        t.join()
    done = sum(1 for r in run_ids if store.run(r).status == "done")
    print(f"\n{label}: {done}/{RUNS} runs done in {wall:.1f} s, {RUNS / wall * 60:.1f} runs per minute")
    for name, key in (("watermark (items newer than the last seen)", "wm"), ("full reload of the live turn", "full")):
        statements, rows, seconds = results[key]
        print(
            f"  one watching page, {name}: {statements / seconds:.1f} statements/s, "
            f"{rows / seconds:.1f} item rows read/s over {seconds:.1f} s"
        )


def main() -> None:
    """Run both batches in one go and print their figures."""
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    emu = Emulator(pacing=Pacing.realistic())
    emu.start()
    pg, s3 = Postgres().start(), S3Server(root / "s3").start()
    workers: list[WorkerProc] = []
    try:
        url = pg.create("bench")
        s3.bucket("bench")
        env = {
            "ANTHROPIC_API_KEY": "bench-key",
            "ANTHROPIC_BASE_URL": emu.url,
            "ANALYST_DATABASE_URL": url,
            "ANALYST_BLOB_URL": "s3://bench/files",
            **s3.env(),
        }
        workers = [WorkerProc(root / f"worker{n}", env).start() for n in range(2)]
        team = load_settings({}, {**env, "ANALYST_DATA_DIR": str(root / "team")})
        batch(Store(team.data_dir, url=url), team, "PostgreSQL, 2 worker processes")
        local = load_settings({}, {**env, "ANALYST_DATABASE_URL": "", "ANALYST_DATA_DIR": str(root / "embedded")})
        batch(Store(local.data_dir), local, "embedded SQLite, threads of this process")
    finally:
        for worker in workers:
            worker.stop()
        s3.stop()
        pg.stop()
        emu.stop()


if __name__ == "__main__":
    main()
