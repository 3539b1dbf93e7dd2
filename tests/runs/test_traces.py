"""A turn's numbers traced when it ends and kept with it: what the page, the report and the CLI read, with the
real SDK against the emulator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lib.emulator import Python, Text
from lib.runs import jobs, traces
from lib.runs.view import load_run_view
from lib.tracing.records import Status
from tests.support.runs import CSV, run_to_end, upload

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PRINTS = "print('mean sales: 110.0')\nprint('share of North: 0.4583')\n"
WRITES = (
    "import os\nout = os.environ.get('OUTPUT_DIR', 'outputs')\nos.makedirs(out, exist_ok=True)\n"
    "open(os.path.join(out, 'north.csv'), 'w').write('region,total\\nNorth,123.456\\n')\nprint('saved')\n"
)


def _numbers(store, settings, run_id, turn=0):
    view = load_run_view(store, run_id, settings.prices)
    trace = view.turns[turn].trace
    assert trace is not None, "the finished turn has no trace"
    return trace, {n.text: n for n in trace.numbers}


def test_a_finished_turn_keeps_its_numbers_traced(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script(
        [
            Python(PRINTS),
            Text("Mean sales are 110 and 45.8% of them are North, over the file's 4 rows. Next month: 150."),
        ]
    )
    run_id = run_to_end(store, settings, "How are sales split?", [file_id])
    trace, found = _numbers(store, settings, run_id)
    assert trace.summary == "2 of 3 numbers traced"
    assert found["110"].status is Status.EXACT and found["45.8%"].status is Status.ROUNDED
    assert (found["4"].status, found["4"].reason) == (Status.SKIPPED, "in the files note")
    assert found["150"].status is Status.UNTRACED and [n.text for n in trace.untraced] == ["150"]
    source = found["45.8%"].source
    assert source is not None and (source.cell_number, source.line, source.line_text) == (
        1,
        2,
        "share of North: 0.4583",
    )


def test_a_follow_up_quotes_an_earlier_output_and_a_generated_file(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Python(PRINTS), Text("Mean sales are 110.")])
    run_id = run_to_end(store, settings, "Mean sales?", [file_id])
    emulator.queue_script([Python(WRITES), Text("As before, 110; North's total is 123.46 (see the file).")])
    jobs.start_turn(store, settings, run_id, "And North's total?")
    assert jobs.wait(run_id, 60)
    trace, found = _numbers(store, settings, run_id, turn=1)
    assert trace.summary == "2 of 2 numbers traced"
    earlier = found["110"].source
    assert earlier is not None and (earlier.turn, earlier.cell_number) == (0, 1)
    from_file = found["123.46"]
    assert from_file.status is Status.ROUNDED and from_file.source is not None
    assert (from_file.source.file, from_file.source.label, from_file.source.line) == ("north.csv", "total", 2)


def test_a_turn_whose_numbers_cannot_be_traced_still_ends_well(emulator, settings, store, monkeypatch):
    def broken(*_args, **_kw):
        raise RuntimeError("tracing broke")

    monkeypatch.setattr(traces, "trace_run", broken)
    emulator.queue_script([Python(PRINTS), Text("Mean sales are 110.")])
    run_id = run_to_end(store, settings, "Mean sales?", [upload(settings, store)])
    view = load_run_view(store, run_id, settings.prices)
    assert view.run.status == "done" and view.turns[0].turn.status == "done"
    assert view.turns[0].trace is None and store.traces(run_id) == {}


def test_known_numbers_are_what_the_files_note_says_the_profile_and_the_notes(settings, store):
    record = store.file(upload(settings, store))
    assert record is not None and record.profile is not None
    noted = dataclasses.replace(record, notes="sales in USD; 12 months; region 3 is new")
    known = traces.known_numbers(settings.data_dir, [noted])
    # the size, the shape (4 rows x 3 columns), the sales column's range and mean, then the analyst's notes
    assert {f"{len(CSV):,}", "4", "3", "90", "130", "110", "12"} <= set(known), known
    assert known[-2:] == ["12", "3"]


def test_a_table_kept_from_before_profiles_gives_its_shape_as_its_preview_counts_it(settings, store):
    record = store.file(upload(settings, store))
    assert record is not None
    known = traces.known_numbers(settings.data_dir, [dataclasses.replace(record, profile=None)])
    assert known[-2:] == [4, 3] and f"{len(CSV):,}" in known


def test_a_number_from_the_stored_profile_is_not_counted_in_the_answer(emulator, settings, store):
    emulator.queue_script([Python(PRINTS), Text("Mean sales are 110; sales run from 90 to 130 over 4 months.")])
    run_id = run_to_end(store, settings, "Mean sales?", [upload(settings, store)])
    trace, found = _numbers(store, settings, run_id)
    assert found["110"].status is Status.EXACT  # printed by the cell: traced, though the profile says it too
    assert [found[n].status for n in ("90", "130", "4")] == [Status.SKIPPED] * 3
    assert trace.summary == "1 of 1 number traced"


# --- the demo analyst's plans that quote figures ------------------------------------------------------------


def _demo_answer(settings, store, sample, question):
    file_id = upload(settings, store, sample, (SAMPLES / sample).read_bytes())
    run_id = run_to_end(store, settings, question, [file_id])
    trace, _ = _numbers(store, settings, run_id)
    return trace


def test_the_demo_analyst_rounds_averages_in_its_prose(settings, store):
    trace = _demo_answer(settings, store, "monthly_sales.csv", "What are the average units and revenue?")
    assert trace.summary == "4 of 4 numbers traced"
    assert [(n.text, n.status) for n in trace.numbers] == [
        ("102.3", Status.ROUNDED),
        ("95.0", Status.EXACT),
        ("5,389", Status.ROUNDED),
        ("5,228", Status.ROUNDED),
    ]
    assert trace.numbers[0].source.line_text == "Average of units: mean 102.293403, median 95.000000"


def test_the_demo_analyst_states_shares_as_percents_of_printed_fractions(settings, store):
    trace = _demo_answer(settings, store, "subscriptions_churn.csv", "What share of customers churned?")
    assert trace.summary == "2 of 2 numbers traced"
    assert [n.source.line_text for n in trace.numbers] == ["0: 0.7473", "1: 0.2527"]
    assert [(n.text, n.status) for n in trace.numbers] == [("74.7%", Status.ROUNDED), ("25.3%", Status.ROUNDED)]


def test_the_demo_analysts_projection_is_the_one_number_no_cell_printed(settings, store):
    trace = _demo_answer(settings, store, "monthly_sales.csv", "Forecast next month's units.")
    assert trace.summary == "3 of 4 numbers traced"
    assert [n.text for n in trace.untraced] == ["155.8"]
    assert {n.reason for n in trace.numbers if not n.counted} == {"date or time"}  # the latest month, 2024-12
