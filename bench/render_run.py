"""Tracing the numbers of a 200-item run against loading that run's view from the store. Prints figures.

The run is the demo analyst's real work: on each sample table, a first look and follow-ups (trend, anomalies,
correlation) streamed from a local emulator whose code really runs, so the stdout, the generated summary CSVs
and Vega-Lite specs and the prose are what a user of the demo sees. Those turns are copied, in order, into one
run until it has at least 200 items (the copies keep their artifacts). Then, alternating, the bench times
`lib.runs.view.load_run_view` (the baseline: what every render of the run already does) and
`lib.tracing.trace_run` over the loaded view with the numbers of its generated files (read once in the sandbox,
as a page would cache them; that one-off cost is printed too). Times are CPU seconds of the thread doing the work
(`time.thread_time`), so load from other processes on a shared machine does not skew the ratio. The goal is
tracing in at most 30 ms.

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
from lib.runs.view import load_run_view  # noqa: E402
from lib.settings import load_settings  # noqa: E402
from lib.storage.store import Store  # noqa: E402
from lib.tracing import MAX_PER_OUTPUT, trace_run  # noqa: E402
from tests.support.runs import upload  # noqa: E402

SAMPLES = ["monthly_sales.csv", "stocks_monthly.csv", "subscriptions_churn.csv", "sensor_readings_semicolon.csv"]
QUESTIONS = ["Give me a first look.", "Show the trend over time.", "Any anomalies or outliers?", "What drives what?"]


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

        view = load_run_view(store, run_id, settings.prices)
        assert view is not None
        all_items = [i for t in view.turns for i in t.items]
        started = time.perf_counter()
        files = generated_numbers(data_dir, all_items)
        read_files = time.perf_counter() - started
        turns = [(t.turn.question, t.items) for t in view.turns]

        loads, traces = [], []
        for _ in range(args.rounds):
            seconds, _view = timed(lambda: load_run_view(store, run_id, settings.prices))
            loads.append(seconds)
            seconds, trace = timed(lambda: trace_run(turns, files))
            traces.append(seconds)

    load, tracing = statistics.median(loads), statistics.median(traces)
    kinds = {}
    for item in all_items:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    print(f"run: {len(all_items)} items in {len(turns)} turns ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    shown = sum(len(f.numbers) for f in files.values())
    cut = sorted(
        i.filename for i in all_items if i.kind == "file" and i.file_id in files and files[i.file_id].truncated
    )
    print(
        f"generated files read in the sandbox: {len(files)} files, {shown} numbers, {read_files * 1000:.0f} ms once "
        f"(wall clock); cut at {MAX_PER_OUTPUT} numbers: {', '.join(cut) or 'none'}"
    )
    print(f"traced: {trace.summary}; complete: {trace.complete}")  # type: ignore[attr-defined]
    print(f"load_run_view (baseline): {load * 1000:7.2f} ms median of {args.rounds}")
    print(f"trace_run:                {tracing * 1000:7.2f} ms median of {args.rounds}  (goal <= 30 ms)")
    print(f"ratio trace / load:       {tracing / load:7.2f}")


if __name__ == "__main__":
    main()
