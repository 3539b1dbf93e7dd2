"""Time to first visible output in a real browser: streaming vs a buffered (non-streaming) baseline.

    python bench/time_to_first_output.py [--runs 5] [--database sqlite|postgres] [--chromium /usr/bin/chromium]

Starts the API emulator in this process with realistic pacing (about 30 ms per text chunk, about 2 s per code
execution), starts `streamlit run app.py` pointed at it, puts samples/monthly_sales.csv in the library through
the lib API, then for each round, in headless Chromium: opens Analyze, picks the file, types the question and
presses Run analysis, once with the emulator streaming and once with `Pacing(buffered=True)` (every event of the
response held back and sent at once at its end). The page itself records, with performance.now(), the click, the
first frame showing the answer's first words, and the first frame showing the run as done. Nothing is asserted;
absolute numbers depend on the machine, so read the ratios.

`--database postgres` runs the team topology instead of the embedded default: a throwaway PostgreSQL cluster,
moto's S3 server and one `python -m lib.worker`; the app only queues the run, the worker streams it, and the
page is woken by PostgreSQL NOTIFY. `bench/scale.py` compares the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from lib.client import make_client  # noqa: E402
from lib.emulator import Emulator, Pacing  # noqa: E402
from lib.files import library, uploads  # noqa: E402
from lib.settings import load_settings  # noqa: E402
from lib.storage import blobs  # noqa: E402
from lib.storage.store import Store  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, App, start_app, wait_for_app_run  # noqa: E402
from tests.support.services import Postgres, S3Server, WorkerProc, named  # noqa: E402

SAMPLE = REPO / "samples" / "monthly_sales.csv"
QUESTION = "Show the revenue trend over time"
FIRST_WORDS = "I'll load"  # how the emulator's analyst always starts its answer

# Installed in the page before the click: stamps the click on "Run analysis", then the first animation frame
# after the answer's first words appear in the DOM, and after both the "done" status and the closing summary
# ("<file> has N rows and M columns ...") do.
PROBE_JS = """([firstWords]) => {
  const marks = {click: null, live: null, first: null, done: null};
  window.__bench = marks;
  document.addEventListener('click', (e) => {
    const b = e.target.closest && e.target.closest('button');
    if (b && b.innerText.includes('Run analysis') && marks.click === null) marks.click = performance.now();
  }, true);
  const check = () => {
    if (marks.click === null) return;
    const text = document.body.textContent;
    if (marks.live === null && text.includes('Waiting for the first words')) marks.live = performance.now();
    if (marks.first === null && text.includes(firstWords)) {
      marks.first = -1; requestAnimationFrame(() => { marks.first = performance.now(); });
    }
    if (marks.done === null && /●\\s*done/.test(text) && /has [\\d,]+ rows and/.test(text)) {
      marks.done = -1; requestAnimationFrame(() => { marks.done = performance.now(); });
    }
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def seed_sample(emu: Emulator, data_dir: Path, env: dict[str, str]) -> None:
    """Upload the sample to the emulator and the app's library (the app shares the data directory, or the team's
    database and object store)."""
    settings = load_settings(
        {},
        {"ANTHROPIC_API_KEY": "bench-key", "ANTHROPIC_BASE_URL": emu.url, "ANALYST_DATA_DIR": str(data_dir), **env},
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    blobs.configure(settings.data_dir, settings.blob_url)
    data = SAMPLE.read_bytes()
    checked = uploads.check_upload(SAMPLE.name, data, settings.max_upload_bytes, data_dir)
    assert isinstance(checked, uploads.Accepted), checked
    store = Store(data_dir, url=settings.database_url)
    result = library.upload_accepted(make_client(settings), store, data_dir, checked)
    if result.record is None:
        raise SystemExit(f"could not seed the sample: {result.error}")


@dataclass
class Target:
    """The app under test and the database its runs are stored in."""

    app: App
    database_url: str  # what FirstStored reads
    stop_all: list = field(default_factory=list)  # what to stop at the end, last first

    def stop(self) -> None:
        """Stop the app and whatever was started for it."""
        self.app.stop()
        for stop in reversed(self.stop_all):
            stop()


@contextmanager
def target(kind: str, emu: Emulator, workdir: Path) -> Iterator[Target]:
    """The app with the sample in its library: embedded (`sqlite`) or with PostgreSQL, S3 and one worker."""
    workdir.mkdir(parents=True, exist_ok=True)
    stops: list = []
    try:
        env: dict[str, str] = {}
        if kind == "postgres":
            pg = Postgres().start()
            stops.append(pg.stop)
            s3 = S3Server(workdir / "s3").start()
            stops.append(s3.stop)
            s3.bucket("bench")
            url = pg.create("bench")
            env = {"ANALYST_DATABASE_URL": url, "ANALYST_BLOB_URL": "s3://bench/files", **s3.env()}
            worker_env = {**env, "ANTHROPIC_API_KEY": "bench-key", "ANTHROPIC_BASE_URL": emu.url}
            worker = WorkerProc(workdir / "worker", {**worker_env, "ANALYST_DATABASE_URL": named(url, "worker")})
            stops.append(worker.start().stop)
        app = start_app(
            workdir, emulator=None, env_extra={"ANTHROPIC_API_KEY": "bench-key", "ANTHROPIC_BASE_URL": emu.url, **env}
        )
        seed_sample(emu, workdir / "data", env)
        found = Target(
            app, env.get("ANALYST_DATABASE_URL") or f"sqlite:///{workdir / 'data' / 'analyst.sqlite3'}", stops
        )
    except BaseException:
        for stop in reversed(stops):
            stop()
        raise
    try:
        yield found
    finally:
        found.stop()


class FirstStored:
    """Watches the database from another thread and notes when the newest run's first text item is stored."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.at, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        text = "json_extract(data, '$.text')" if url.startswith("sqlite") else "(data::json ->> 'text')"
        self.query = sa.text(
            f"SELECT 1 FROM items WHERE kind='text' AND run_id=(SELECT id FROM runs ORDER BY created_at DESC "
            f"LIMIT 1) AND {text} != '' AND (SELECT COUNT(*) FROM runs) > :before"
        )

    def __enter__(self) -> FirstStored:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()

    def _watch(self) -> None:
        with self.engine.connect() as con:
            before = con.execute(sa.text("SELECT COUNT(*) FROM runs")).scalar()
            con.rollback()
            while not self._stop.is_set() and not self.at:
                if con.execute(self.query, {"before": before}).first():
                    self.at = time.time()
                con.rollback()  # a fresh snapshot for the next look
                self._stop.wait(0.002)


def one_run(page, url: str, emu: Emulator, db: str) -> tuple[float, float, dict[str, float]]:
    """Open a fresh Analyze page, fill the form, press Run; returns (first words, done) in seconds and where the
    time to the first words went (epoch stamps from the browser, the emulator and the database)."""
    from playwright.sync_api import expect

    page.goto(f"{url}/Analyze")
    wait_for_app_run(page)
    page.get_by_label("Files to analyse").click()
    page.get_by_role("option", name=SAMPLE.name, exact=False).first.click()
    page.keyboard.press("Escape")
    wait_for_app_run(page)
    box = page.get_by_label("Your question")
    box.fill(QUESTION)
    box.press("Control+Enter")
    wait_for_app_run(page)
    run = page.get_by_role("button", name="Run analysis")
    expect(run).to_be_enabled()
    page.evaluate(PROBE_JS, [FIRST_WORDS])
    with FirstStored(db) as stored:
        run.click()
        page.wait_for_function("() => window.__bench && window.__bench.done > 0", timeout=60_000, polling=100)
    marks = page.evaluate("() => window.__bench")
    origin = page.evaluate("() => performance.timeOrigin") / 1000
    if not (marks["first"] or 0) > 0:  # the answer did not start as expected: say what the page showed
        shown = page.get_by_test_id("stMainBlockContainer").inner_text()[:1500]
        raise SystemExit(f"the first words {FIRST_WORDS!r} never appeared; the page showed:\n{shown}")
    click, shown = origin + marks["click"] / 1000, origin + marks["first"] / 1000
    sent = next(r for r in emu.requests if r.path == "/v1/messages" and r.received_at >= click)
    first_event = emu.first_delta_at.get(sent.request_id, 0.0)
    stages = {
        "click -> live view on screen": (marks["live"] - marks["click"]) / 1000 if marks["live"] else float("nan"),
        "click -> request at the API": sent.received_at - click,
        "request -> first event sent": first_event - sent.received_at,
        "first event -> stored": stored.at - first_event,
        "stored -> on screen": shown - stored.at,
    }
    return (marks["first"] - marks["click"]) / 1000, (marks["done"] - marks["click"]) / 1000, stages


def row(name: str, values: list[float]) -> str:
    """median / min / max of one series."""
    return f"  {name:<34} {statistics.median(values):7.2f} {min(values):7.2f} {max(values):7.2f}"


def measure(
    target: Target, emu: Emulator, rounds: int, modes: tuple[str, ...], chromium: str = CHROMIUM, quiet: bool = False
) -> tuple[dict[str, dict[str, list[float]]], dict[str, list[float]]]:
    """Rounds of each mode (interleaved) after one warm-up; returns the first words and done times per mode, and
    where the streaming rounds' time to the first words went."""
    from playwright.sync_api import sync_playwright

    pacing = emu.pacing
    results: dict[str, dict[str, list[float]]] = {m: {"first": [], "done": []} for m in modes}
    breakdown: dict[str, list[float]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(30_000)
        one_run(page, target.app.url, emu, target.database_url)  # warm-up: first imports, caches, a container
        try:
            for i in range(rounds):
                for mode in modes:  # interleaved, so drift hits both alike
                    # The server reads Emulator.pacing on every response; only `buffered` changes.
                    emu.pacing = replace(pacing, buffered=mode == "buffered")
                    first, done, stages = one_run(page, target.app.url, emu, target.database_url)
                    results[mode]["first"].append(first)
                    results[mode]["done"].append(done)
                    if mode == "streaming":
                        for name, seconds in stages.items():
                            breakdown.setdefault(name, []).append(seconds)
                    if not quiet:
                        print(
                            f"round {i + 1}/{rounds} {mode:<9} first words {first:6.2f} s   done {done:6.2f} s",
                            flush=True,
                        )
        finally:
            emu.pacing = pacing
            browser.close()
    return results, breakdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds per mode (default 5)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-ttfo-"))
    pacing = Pacing.realistic()
    emu = Emulator(pacing=pacing)
    emu.start()
    started = time.monotonic()
    try:
        with target(args.database, emu, workdir) as found:  # the browser tests' own way to start the app
            results, breakdown = measure(found, emu, args.runs, ("streaming", "buffered"), args.chromium)
    finally:
        emu.stop()

    s, b = results["streaming"], results["buffered"]
    print()
    print(
        f"Time from pressing Run to the answer on screen, {args.runs} rounds each, {args.database} "
        f"(emulator: {pacing.text_chunk_delay * 1000:.0f} ms per text chunk, {pacing.code_delay:.0f} s per code "
        f"execution; {time.monotonic() - started:.0f} s in all)"
    )
    print(f"  {'seconds':<34} {'median':>7} {'min':>7} {'max':>7}")
    print(row("first words, streaming", s["first"]))
    print(row("first words, buffered baseline", b["first"]))
    print(row("run done, streaming", s["done"]))
    print(row("run done, buffered baseline", b["done"]))
    print()
    first_ratio = statistics.median(s["first"]) / statistics.median(b["first"])
    done_ratio = statistics.median(s["done"]) / statistics.median(b["done"])
    print(
        f"  first words: streaming / baseline = {first_ratio:.2f} "
        f"(the first words show {1 / first_ratio:.0f}x sooner when streamed)"
    )
    print(f"  run done:    streaming / baseline = {done_ratio:.2f}")
    print()
    print("Where the time to the first words went, streaming (median ms):")
    for name, values in breakdown.items():
        seen = [v for v in values if v == v]  # the live view is not seen when the first words came with it
        median = f"{statistics.median(seen) * 1000:7.0f}" if seen else "      -"
        print(
            f"  {name:<34} {median}" + (f"  ({len(seen)} of {len(values)} rounds)" if len(seen) < len(values) else "")
        )
    print("  (stages after the first two follow one another; the live view is drawn meanwhile)")
    api = statistics.median(breakdown["request -> first event sent"])
    print(f"  {'ours (all but the API stage)':<34} {(statistics.median(s['first']) - api) * 1000:7.0f}")


if __name__ == "__main__":
    main()
