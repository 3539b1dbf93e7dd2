"""A 200-item run's numbers: traced once when each turn ends and kept, against tracing them again on every render.
Prints figures.

The run is the demo analyst's real work: on each sample table, a first look and follow-ups (trend, anomalies,
correlation, an average, a share, a projection) streamed from a local emulator whose code really runs, so the
stdout, the generated summary CSVs and Vega-Lite specs and the prose are what a user of the demo sees. Those turns
are copied, in order, into one run until it has at least 200 items (the copies keep their artifacts), and each
copied turn's numbers are traced and kept as a turn's are when it ends (`lib.runs.traces.keep_trace`: the generated
files' numbers read in the sandbox, the input tables' shape from their preview; wall clock, once per turn).

Then, alternating, the bench times `lib.runs.view.load_run_view` (the baseline: what every render of the run does;
it reads and decodes the kept traces), reading them back alone (`kept_trace`, as the command line does), `lib.tracing.trace_run` over the
loaded view with the numbers of its generated files already read (what every render would cost instead if nothing
were kept), and what the page adds to draw them (every answer's untraced numbers marked, every number's line in the
Numbers lists). Times are CPU seconds of the thread doing the work (`time.thread_time`), so load from other
processes on a shared machine does not skew the ratios. The goal is tracing in at most 30 ms.

    python bench/render_run.py [--items 200] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lib.emulator import Emulator  # noqa: E402
from lib.files.file_numbers import generated_numbers  # noqa: E402
from lib.runs import jobs  # noqa: E402
from lib.runs.traces import keep_trace  # noqa: E402
from lib.runs.view import kept_trace, load_run_view  # noqa: E402
from lib.settings import load_settings  # noqa: E402
from lib.storage.store import Store  # noqa: E402
from lib.tracing import MAX_PER_OUTPUT, trace_run  # noqa: E402
from lib.transcript import Text  # noqa: E402
from lib.ui.traced import listed, marked  # noqa: E402
from tests.support.runs import upload  # noqa: E402

SAMPLES = ["monthly_sales.csv", "stocks_monthly.csv", "subscriptions_churn.csv", "sensor_readings_semicolon.csv"]
QUESTIONS = [
    "Give me a first look.",
    "Show the trend over time.",
    "Any anomalies or outliers?",
    "What drives what?",
    "What are the average values?",
    "What share of rows is in each group?",
    "Forecast the next month.",
]


def demo_turns(store: Store, settings) -> list[tuple[str, int]]:
    """Real runs of the demo analyst, one per sample: (run id, turn index) of every turn, in order."""
    turns = []
    for sample in SAMPLES:
        file_id = upload(settings, store, sample, (REPO / "samples" / sample).read_bytes())
        run = jobs.new_run(store, settings, QUESTIONS[0], [file_id])
        assert jobs.wait(run.id, 300), f"the first look at {sample} did not finish"
        for question in QUESTIONS[1:]:
            jobs.start_turn(store, settings, run.id, question)
            assert jobs.wait(run.id, 300), f"{question!r} on {sample} did not finish"
        turns += [(run.id, t.idx) for t in store.turns(run.id)]
    return turns


def copy_into_one_run(store: Store, turns: list[tuple[str, int]], items: int) -> str:
    """A run holding the given turns, copied in order and again until it has at least `items` items."""
    run = store.create_run("Bench: a long analysis", "claude-sonnet-4-6", "code_execution_20260521", [])
    count = 0
    while count < items:
        for run_id, idx in turns:
            source = store.turn(run_id, idx)
            assert source is not None
            new = store.add_turn(run.id, source.question, source.user_content)
            for stored in store.items(run_id, turn_idx=idx):
                store.put_item(run.id, new, stored.seq, stored.item)
                count += 1
            store.update_turn(run.id, new, status="done", usage=source.usage, finished_at=time.time())
            if count >= items:
                break
    store.update_run(run.id, status="done")
    return run.id


def timed(fn) -> tuple[float, object]:
    start = time.thread_time()
    result = fn()
    return time.thread_time() - start, result


def keep_traces(store: Store, data_dir: Path, run_id: str) -> list[float]:
    """Trace and keep every turn of a run as each would be when it ended; wall-clock seconds per turn."""
    seconds = []
    for turn in store.turns(run_id):
        started = time.perf_counter()
        assert keep_trace(store, data_dir, run_id, turn.idx) is not None
        seconds.append(time.perf_counter() - started)
    return seconds


def drawn(view) -> int:
    """What the page adds to draw a run's traced numbers: each answer marked, each number's line listed."""
    size = 0
    for turn in view.turns:
        numbers = turn.trace.by_item() if turn.trace is not None else {}
        for seq, item in enumerate(turn.items):
            if isinstance(item, Text):
                size += len(marked(item.text, numbers.get(seq, ())))
        size += len(listed(turn.trace)) if turn.trace is not None else 0
    return size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        data_dir = Path(tmp)
        env = {"ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": emulator.url, "ANALYST_DATA_DIR": tmp}
        settings = load_settings({}, env)
        store = Store(data_dir)
        started = time.monotonic()
        run_id = copy_into_one_run(store, demo_turns(store, settings), args.items)
        print(f"demo analyst's turns streamed and copied in {time.monotonic() - started:.0f} s")
        kept = keep_traces(store, data_dir, run_id)

        view = load_run_view(store, run_id, settings.prices)
        assert view is not None
        all_items = [i for t in view.turns for i in t.items]
        files = generated_numbers(data_dir, all_items)
        turns = [(t.turn.question, t.items) for t in view.turns]

        loads, reads, traces, draws = [], [], [], []
        for _ in range(args.rounds):
            seconds, _view = timed(lambda: load_run_view(store, run_id, settings.prices))
            loads.append(seconds)
            seconds, _kept = timed(lambda: kept_trace(store, run_id))
            reads.append(seconds)
            seconds, trace = timed(lambda: trace_run(turns, files))
            traces.append(seconds)
            seconds, _size = timed(lambda: drawn(view))
            draws.append(seconds)

    load, read, tracing, draw = (statistics.median(x) for x in (loads, reads, traces, draws))
    kinds = {}
    for item in all_items:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    print(f"run: {len(all_items)} items in {len(turns)} turns ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    shown = sum(len(f.numbers) for f in files.values())
    cut = sorted(
        i.filename for i in all_items if i.kind == "file" and i.file_id in files and files[i.file_id].truncated
    )
    print(
        f"generated files: {len(files)} files, {shown} numbers; cut at {MAX_PER_OUTPUT} numbers: {', '.join(cut) or 'none'}"
    )
    print(f"kept: {view_summary(view)}")
    print(f"traced: {trace.summary}; complete: {trace.complete}")  # type: ignore[attr-defined]
    print(
        f"keep_trace at a turn's end:  {statistics.median(kept) * 1000:7.1f} ms median wall clock "
        f"(max {max(kept) * 1000:.1f}), once per turn"
    )
    print(f"load_run_view (baseline):    {load * 1000:7.2f} ms median of {args.rounds}")
    print(f"kept traces read back alone: {read * 1000:7.2f} ms  (ratio {read / load:.2f}; their turns read too)")
    print(f"trace_run on every render:   {tracing * 1000:7.2f} ms  (ratio {tracing / load:.2f}; goal <= 30 ms)")
    print(f"marking and listing numbers: {draw * 1000:7.2f} ms  (ratio {draw / load:.2f})")


def view_summary(view) -> str:
    """Every turn's kept trace, summed: '14 of 15 numbers traced', and how many turns have one."""
    kept = [t.trace for t in view.turns if t.trace is not None]
    traced = sum(len(t.traced) for t in kept)
    counted = sum(len(t.counted) for t in kept)
    return f"{traced} of {counted} numbers traced in {len(kept)} of {len(view.turns)} turns"


if __name__ == "__main__":
    main()
