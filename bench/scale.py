"""Teams at scale: throughput per number of workers, a light user's queue wait beside a heavy one, what pages and
workers cost the database, and the first words on PostgreSQL against SQLite.

    python bench/scale.py --users 10 --runs 50 --workers 1,2,4        # the full run: about 10 minutes
    python bench/scale.py --users 4 --runs 12 --workers 1,2 --heavy 8 --light 4 --rounds 1 --idle 10   # a look

Starts a throwaway PostgreSQL cluster that logs every statement with the name of the process that sent it
(`log_statement = all`, `log_line_prefix = '%a|'`; each process names its connections), moto's S3 server, an
emulator paced like a model (first token after 0.5-1.5 s, each answer 5-20 s: `Pacing.model_like`), one app
replica and `python -m lib.worker` processes, and headless Chromium for the pages. Statements are counted from
the server's own log, so whatever a process sends counts (pool pings, LISTEN, NOTIFY, the workers' beats);
transaction control (BEGIN, COMMIT, ROLLBACK) is counted apart. Each figure is set against a baseline measured
in the same run:

  * an idle worker with its replica (one page open at rest) against the previous schedule of an idle worker
    (look for queued turns every 0.5 s, renew leases every 0.3 s, reap every 2 s, with the engine's ping before
    every transaction), sent by this process to the same database;
  * a page watching a live run against the previous live view on the same page: three statements per timer
    tick of the page (the live turn, its new items, its lease), the ticks counted on the page's websocket;
  * throughput with N workers against 1 worker; the light user's queue wait with the heavy user's runs queued
    against the same user's wait with the queue to themselves;
  * the first words on PostgreSQL against SQLite, in the first-words bench's own scenario.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import heapq
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import sqlalchemy as sa  # noqa: E402
import time_to_first_output as first_words_bench  # noqa: E402

from lib.emulator import Emulator, Pacing  # noqa: E402
from lib.runs import jobs  # noqa: E402
from lib.settings import Settings, load_settings  # noqa: E402
from lib.storage.store import Store  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, App, start_app, wait_for_app_run  # noqa: E402
from tests.support.services import Postgres, S3Server, WorkerProc, named  # noqa: E402

CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
LOGGED = re.compile(r"^(?P<app>[^|\n]*)\|LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$")
OLD_TICK_STATEMENTS = 3  # the previous live view read the turn, its new items and its lease on every tick


# --- counting statements from the server's log -------------------------------------------------------------


@dataclass
class StatementLog:
    """The statements PostgreSQL logged, by the application name of the connection that sent them."""

    path: Path

    def mark(self) -> int:
        """Where the log ends now."""
        return self.path.stat().st_size

    def count(self, since: int, until: int | None = None) -> tuple[Counter[str], Counter[str]]:
        """Statements and transaction-control statements per application name, between two marks."""
        with open(self.path, "rb") as log:
            log.seek(since)
            data = log.read((until - since) if until is not None else -1).decode(errors="replace")
        statements, control = Counter(), Counter()
        for line in data.splitlines():
            found = LOGGED.match(line)
            if found:
                app = found["app"].removesuffix(" listener")
                (control if CONTROL.match(found["sql"]) else statements)[app] += 1
        return statements, control


def total(counts: Counter[str], *prefixes: str) -> int:
    """The count of the applications whose name starts with one of `prefixes`."""
    return sum(n for app, n in counts.items() if app.startswith(prefixes))


# --- the topology ---------------------------------------------------------------------------------------------


@dataclass
class Topology:
    """PostgreSQL, S3, the emulator, one replica, the workers, and this process's own views of the database."""

    root: Path
    pg: Postgres
    s3: S3Server
    emulator: Emulator
    url: str
    capacity: int
    replica: App | None = None
    workers: list[WorkerProc] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """What every process of the team gets."""
        return {
            "ANTHROPIC_API_KEY": "bench-key",
            "ANTHROPIC_BASE_URL": self.emulator.url,
            "ANALYST_DATABASE_URL": self.url,
            "ANALYST_BLOB_URL": "s3://bench/files",
            **self.s3.env(),
        }

    def settings(self) -> Settings:
        """This process's settings: it enqueues runs as a replica does (its connections named `bench`)."""
        env = {**self.env(), "ANALYST_DATA_DIR": str(self.root / "bench"), "ANALYST_DATABASE_URL": self.bench_url}
        return load_settings({}, env)

    @property
    def bench_url(self) -> str:
        """The database as this process's own reads and writes name it."""
        return named(self.url, "bench")

    def store(self, owner: str = "local") -> Store:
        """The database as `owner` sees it, through this process."""
        return Store(self.root / "bench", url=self.bench_url).as_owner(owner, admin=True)

    def set_workers(self, count: int) -> None:
        """Stop the workers and start `count` new ones; returns once each claims turns."""
        for worker in self.workers:
            worker.stop()
        self.workers = []
        for _ in range(count):
            name = f"worker{len(list(self.root.glob('worker*')))}"
            env = {**self.env(), "ANALYST_DATABASE_URL": named(self.url, name)}
            self.workers.append(WorkerProc(self.root / name, env, ["--capacity", str(self.capacity)]).start())
        wait(lambda: len({w.pid for w in self.store().workers() if not w.draining} & self.pids()) == count, 120)

    def pids(self) -> set[int]:
        """The process ids of the running workers."""
        return {w.proc.pid for w in self.workers if w.proc is not None}

    def stop(self) -> None:
        """Stop everything."""
        for worker in self.workers:
            worker.stop()
        if self.replica is not None:
            self.replica.stop()
        self.s3.stop()
        self.pg.stop()
        self.emulator.stop()


def start(capacity: int) -> Topology:
    """Start the team on loopback, the database logging every statement."""
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    emu = Emulator(pacing=Pacing.model_like(seed=7))
    emu.start()
    pg = Postgres(options={"log_statement": "all", "log_line_prefix": "'%a|'"}).start()
    s3 = S3Server(root / "s3").start()
    s3.bucket("bench")
    top = Topology(root, pg, s3, emu, pg.create("bench"), capacity)
    top.replica = start_app(
        root / "replica", emulator=None, env_extra={**top.env(), "ANALYST_DATABASE_URL": named(top.url, "replica")}
    )
    return top


def wait(predicate: Callable[[], object], timeout: float, step: float = 0.2) -> None:
    """Poll until `predicate()` holds, or stop the bench saying it did not."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:.0f} s waiting")
        time.sleep(step)


class Probe:
    """This process's looks at runs while it waits for them (named `bench-probe`, left out of every figure)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(named(url, "bench-probe"))

    def unfinished(self, run_ids: list[str]) -> int:
        """How many of these runs are still queued or running."""
        query = sa.text("SELECT count(*) FROM runs WHERE status IN ('queued', 'running') AND id = ANY(:ids)")
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"ids": run_ids}).scalar_one())

    def claimed(self, run_id: str) -> bool:
        """Whether the run's turn left the queue."""
        with self.engine.connect() as conn:
            status = conn.execute(sa.text("SELECT status FROM turns WHERE run_id = :id"), {"id": run_id}).scalar()
        return status not in (None, "queued")

    def done(self, run_ids: list[str]) -> int:
        """How many of these runs are done."""
        query = sa.text("SELECT count(*) FROM runs WHERE status = 'done' AND id = ANY(:ids)")
        with self.engine.connect() as conn:
            return int(conn.execute(query, {"ids": run_ids}).scalar_one())

    def finished_at(self, run_ids: list[str]) -> list[float]:
        """When each run's turn ended, in order."""
        query = sa.text("SELECT finished_at FROM turns WHERE run_id = ANY(:ids) ORDER BY finished_at")
        with self.engine.connect() as conn:
            return [float(t) for t in conn.execute(query, {"ids": run_ids}).scalars() if t is not None]


# --- the previous idle worker, as a baseline --------------------------------------------------------------


def old_idle_worker(url: str, stopping: threading.Event) -> None:
    """The previous idle worker's statements on its own schedule: look for a queued turn every 0.5 s, renew
    leases and read stop requests every 0.3 s, reap every 2 s; its engine pinged before every transaction."""
    engine = sa.create_engine(named(url, "baseline-idle-worker"), pool_pre_ping=True)
    claim = sa.text(
        "SELECT turns.run_id, turns.idx, turns.request, runs.owner, runs.demo FROM turns JOIN runs ON runs.id = "
        "turns.run_id WHERE turns.status = 'queued' ORDER BY turns.started_at LIMIT 1 FOR UPDATE OF turns SKIP LOCKED"
    )
    renew = sa.text("UPDATE turns SET lease_until = :t WHERE worker = 'old' AND status = 'running'")
    stops = sa.text("SELECT run_id, idx FROM turns WHERE worker = 'old' AND status = 'running' AND stop_requested = 1")
    reap = sa.text("SELECT run_id FROM turns WHERE status = 'running' AND lease_until < :t FOR UPDATE SKIP LOCKED")
    due = {"claim": 0.0, "beat": 0.0, "reap": 0.0}
    every = {"claim": 0.5, "beat": 0.3, "reap": 2.0}
    while not stopping.wait(0.01):
        now = time.monotonic()
        for what, at in due.items():
            if now < at:
                continue
            due[what] = now + every[what]
            with engine.begin() as conn:
                if what == "claim":
                    conn.execute(claim)
                elif what == "beat":
                    conn.execute(renew, {"t": time.time() + 10})
                    conn.execute(stops)
                else:
                    conn.execute(reap, {"t": time.time()})
    engine.dispose()


# --- the scenarios ----------------------------------------------------------------------------------------


def idle(top: Topology, log: StatementLog, page, seconds: float) -> dict[str, float]:
    """One worker and the replica with one page open at rest, nothing queued, against the previous idle worker."""
    top.set_workers(1)
    settings = top.settings()
    run = jobs.new_run(top.store(), settings, "Something to show at rest", [])
    wait(lambda: not jobs.is_active(run.id, top.store()), 60)
    page.goto(f"{top.replica.url}/Analyze?run={run.id}")
    wait_for_app_run(page)
    time.sleep(3)  # let the page and the worker settle
    stopping = threading.Event()
    baseline = threading.Thread(target=old_idle_worker, args=(top.url, stopping), daemon=True)
    since = log.mark()
    baseline.start()
    time.sleep(seconds)
    stopping.set()
    baseline.join()
    statements, control = log.count(since)
    return {
        "worker": total(statements, "worker") / seconds,
        "replica": total(statements, "replica") / seconds,
        "baseline": total(statements, "baseline-idle-worker") / seconds,
        "control": total(control, "worker", "replica") / seconds,
        "baseline control": total(control, "baseline-idle-worker") / seconds,
    }


def watching(top: Topology, log: StatementLog, page, runs: int) -> dict[str, float]:
    """A page on the replica watching live runs from their start to their end; its ticks counted on its
    websocket give the previous live view's statements for the same watch."""
    top.set_workers(1)
    settings = top.settings()
    ticks = [0]
    page.on("websocket", lambda ws: ws.on("framesent", lambda _frame: ticks.__setitem__(0, ticks[0] + 1)))
    seconds = replica = control = sent = 0.0
    for n in range(runs):
        run = jobs.new_run(top.store(), settings, f"Watch this one ({n})", [])
        page.goto(f"{top.replica.url}/Analyze?run={run.id}")
        page.get_by_test_id("stChatMessage").first.wait_for()
        since, started, ticks[0] = log.mark(), time.monotonic(), 0
        page.get_by_text(re.compile(r"^●\s*done$")).wait_for(timeout=120_000)
        seconds += time.monotonic() - started
        sent += ticks[0]
        statements, transactions = log.count(since)
        replica += total(statements, "replica")
        control += total(transactions, "replica")
    return {
        "seconds": seconds,
        "statements": replica / seconds,
        "control": control / seconds,
        "ticks": sent / seconds,
        "baseline": OLD_TICK_STATEMENTS * sent / seconds,
    }


def throughput(top: Topology, log: StatementLog, probe: Probe, workers: int, users: int, runs: int) -> dict[str, float]:
    """`runs` runs of `users` users queued at once; how fast `workers` workers get them done, and what each
    finished run cost the database in all."""
    top.set_workers(workers)
    settings = top.settings()
    stores = [top.store(f"user{u}") for u in range(users)]
    drawn = len(top.emulator.pacing.answers)
    since, started = log.mark(), time.time()
    run_ids = [jobs.new_run(stores[n % users], settings, f"Question {n}", []).id for n in range(runs)]
    wait(lambda: probe.unfinished(run_ids) == 0, 60 * 30, step=0.5)
    ended = probe.finished_at(run_ids)
    statements, control = log.count(since)
    makespan = ended[-1] - started
    low, high = ended[len(ended) // 10], ended[-1 - len(ended) // 10]
    steady = (len(ended) - 2 * (len(ended) // 10)) / max(high - low, 1e-9) * 60
    done = probe.done(run_ids)
    return {
        "done": done,
        "makespan": makespan,
        "ideal": packed(top.emulator.pacing.answers[drawn:], workers * top.capacity),
        "per minute": len(ended) / makespan * 60,
        "steady per minute": steady,
        "statements per run": total(statements, "worker", "bench", "replica") / runs,
        "worker statements per run": total(statements, "worker") / runs,
        "control per run": total(control, "worker", "bench", "replica") / runs,
    }


def packed(answers: list[float], slots: int) -> float:
    """How long these answers take in the order they were served, each on the first free one of `slots` slots,
    with nothing else costing time: the batch's own floor."""
    free = [0.0] * slots
    end = 0.0
    for seconds in answers:
        start = heapq.heappop(free)
        heapq.heappush(free, start + seconds)
        end = max(end, start + seconds)
    return end


def queue_wait(top: Topology, probe: Probe, heavy: int, light: int, gap: float) -> dict[str, list[float]]:
    """The light user's runs, one every `gap` seconds: how long each waits for a worker, first with the queue to
    themselves, then with the heavy user's `heavy` runs queued at once just before."""
    top.set_workers(2)
    settings = top.settings()
    found: dict[str, list[float]] = {}
    for label, crowd in (("alone", 0), ("beside heavy", heavy)):
        heavy_store, light_store = top.store("heavy"), top.store("light")
        crowd_ids = [jobs.new_run(heavy_store, settings, f"Heavy {n}", []).id for n in range(crowd)]
        waits, light_ids = [], []
        for n in range(light):
            asked = time.monotonic()
            run = jobs.new_run(light_store, settings, f"Light {n}", [])
            light_ids.append(run.id)
            wait(lambda r=run.id: probe.claimed(r), 600, step=0.01)
            waits.append(time.monotonic() - asked)
            time.sleep(max(0.0, gap - (time.monotonic() - asked)))
        found[label] = waits
        for run_id in crowd_ids:  # what the heavy user still has queued is not what is measured: stop it
            heavy_store.request_stop(run_id)
        wait(lambda ids=crowd_ids + light_ids: probe.unfinished(ids) == 0, 300, step=0.5)
    return found


def first_words(rounds: int) -> dict[str, list[float]]:
    """The first-words bench's streaming rounds on the embedded default and on PostgreSQL with a worker."""
    emu = Emulator(pacing=Pacing.realistic())
    emu.start()
    found = {}
    try:
        for kind in ("sqlite", "postgres"):
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{kind}-"))
            with first_words_bench.target(kind, emu, workdir) as target:
                results, _ = first_words_bench.measure(target, emu, rounds, ("streaming",), quiet=True)
            found[kind] = results["streaming"]["first"]
    finally:
        emu.stop()
    return found


# --- printing -------------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def verdict(ok: bool) -> str:
    return "goal met" if ok else "goal NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="users the throughput runs belong to (default 10)")
    parser.add_argument("--runs", type=int, default=50, help="runs queued at once per worker count (default 50)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to compare (default 1,2,4)")
    parser.add_argument("--capacity", type=int, default=4, help="turns each worker streams at once (default 4)")
    parser.add_argument("--heavy", type=int, default=30, help="the heavy user's runs queued at once (default 30)")
    parser.add_argument(
        "--light",
        type=int,
        default=4,
        help="the light user's runs, one every --gap seconds (default 4: within their own share of running turns, "
        "so what they wait for is the queue, not their own cap)",
    )
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between the light user's runs (default 1)")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of the idle measurement (default 20)")
    parser.add_argument("--watch", type=int, default=3, help="live runs watched by a page (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="first-words rounds per database (default 3)")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    from playwright.sync_api import sync_playwright

    began = time.monotonic()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    words = first_words(args.rounds)
    top = start(args.capacity)
    try:
        log, probe = StatementLog(top.pg.log_path), Probe(top.url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            rest = idle(top, log, page, args.idle)
            watched = watching(top, log, page, args.watch)
            browser.close()
        waits = queue_wait(top, probe, args.heavy, args.light, args.gap)
        rates = {n: throughput(top, log, probe, n, args.users, args.runs) for n in counts}
    finally:
        top.stop()

    print(
        f"\nbench/scale.py: {args.users} users, {args.runs} runs, workers {args.workers} (each streams up to "
        f"{args.capacity} turns), answers paced like a model (first token 0.5-1.5 s, 5-20 s each); load average "
        f"{' '.join(load)} at the start; {time.monotonic() - began:.0f} s in all"
    )
    print("\nThroughput (runs queued at once until all are done)")
    base = rates[counts[0]]
    for n, r in rates.items():
        print(
            f"  {n} worker(s): {r['done']:.0f}/{args.runs} done in {r['makespan']:.1f} s, {r['per minute']:.1f} runs "
            f"per minute ({r['per minute'] / base['per minute']:.2f}x {counts[0]} worker); between the first and "
            f"last tenth done, {r['steady per minute']:.1f} per minute ({r['steady per minute'] / base['steady per minute']:.2f}x)"
        )
        print(
            f"    the same answers packed onto {n * args.capacity} slots with no overhead: {r['ideal']:.1f} s; "
            f"done in {r['makespan'] / max(r['ideal'], 1e-9):.2f}x that"
        )
    if 4 in rates and 1 in rates:
        steady = rates[4]["steady per minute"] / rates[1]["steady per minute"]
        whole = rates[4]["per minute"] / rates[1]["per minute"]
        ceiling = rates[1]["ideal"] / max(rates[4]["ideal"], 1e-9)
        print(f"  4 workers / 1 worker, every slot busy = {steady:.2f} (goal >= 3.5: {verdict(steady >= 3.5)})")
        print(
            f"  4 workers / 1 worker, whole batch = {whole:.2f}; the batch's own ceiling, its answers packed with no "
            f"overhead, = {ceiling:.2f} (the last, part-filled wave of {args.runs} runs weighs on the shorter batch)"
        )

    print(f"\nQueue wait of the light user ({args.light} runs, one every {args.gap:g} s), 2 workers")
    alone, crowded = waits["alone"], waits["beside heavy"]
    for label, values in (("queue to themselves", alone), (f"beside the heavy user's {args.heavy}", crowded)):
        print(f"  {label:<34} p50 {percentile(values, 0.5):6.3f} s   p95 {percentile(values, 0.95):6.3f} s")
    p95 = percentile(crowded, 0.95)
    print(
        f"  p95 beside the heavy user / alone = {p95 / max(percentile(alone, 0.95), 1e-9):.2f}; "
        f"p95 {p95:.3f} s (goal <= 2 s: {verdict(p95 <= 2.0)})"
    )

    print("\nDatabase statements (transaction control not counted; with it in brackets)")
    pair = rest["worker"] + rest["replica"]
    print(
        f"  idle worker with its replica and a page at rest: {pair:.2f}/s ({pair + rest['control']:.2f}) against "
        f"the previous idle worker's {rest['baseline']:.2f}/s ({rest['baseline'] + rest['baseline control']:.2f}): "
        f"{pair / max(rest['baseline'], 1e-9):.3f}x (goal <= 2/s: {verdict(pair <= 2.0)})"
    )
    print(
        f"  open page with nothing live (the replica, one page at rest): {rest['replica']:.2f}/s "
        f"(goal 0: {verdict(rest['replica'] == 0)})"
    )
    print(
        f"  page watching a live run: {watched['statements']:.2f}/s ({watched['statements'] + watched['control']:.2f}) "
        f"over {watched['seconds']:.0f} s of {args.watch} runs, against {watched['baseline']:.1f}/s for the previous "
        f"live view at the page's {watched['ticks']:.1f} ticks per second: "
        f"{watched['statements'] / max(watched['baseline'], 1e-9):.3f}x (goal <= 5/s: {verdict(watched['statements'] <= 5)})"
    )
    for n, r in rates.items():
        print(
            f"  per finished run, {n} worker(s): {r['statements per run']:.1f} ({r['statements per run'] + r['control per run']:.1f}), "
            f"of which the workers {r['worker statements per run']:.1f}"
        )

    sqlite, postgres = statistics.median(words["sqlite"]), statistics.median(words["postgres"])
    print(f"\nFirst words, Run to screen in Chromium, median of {args.rounds} round(s)")
    print(f"  SQLite (embedded) {sqlite:.2f} s, PostgreSQL (a worker, NOTIFY) {postgres:.2f} s")
    ratio = postgres / sqlite
    print(f"  PostgreSQL / SQLite = {ratio:.2f} (goal <= 1.2: {verdict(ratio <= 1.2)})")


if __name__ == "__main__":
    main()
