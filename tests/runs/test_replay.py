"""Replays: a finished run's questions asked again on a changed copy of its file, linked, and compared."""

from __future__ import annotations

import pytest

from lib.errors import AppError
from lib.files import charts
from lib.runs import jobs, replay
from lib.runs.diff import compare_numbers, compare_runs, figures
from lib.runs.view import load_comparison
from lib.storage.store import Store
from lib.transcript import CodeCell, GeneratedFile, Notice, Output
from lib.transcript import Text as TextItem
from tests.support.runs import CSV, items_of, messages_requests, run_to_end, upload, wait_for

CHANGED = CSV + b"2024-05,South,160\n2024-06,North,170\n"
QUESTIONS = ["Give me a first look at sales.csv", "What drives sales? Show a chart."]


def finished_run(store: Store, settings, questions: list[str] = QUESTIONS) -> tuple[str, str]:
    """A run on sales.csv that answered every question; returns (run id, file id)."""
    file_id = upload(settings, store)
    run_id = run_to_end(store, settings, questions[0], [file_id])
    for question in questions[1:]:
        jobs.start_turn(store, settings, run_id, question)
        assert jobs.wait(run_id, 60)
    assert store.run(run_id).status == "done"
    return run_id, file_id


def test_a_replay_asks_every_question_in_order_on_the_new_file_and_links_to_the_original(
    emulator, settings, store
) -> None:
    original, old_file = finished_run(store, settings)
    new_file = upload(settings, store, "sales_june.csv", CHANGED)
    sent_before = len(messages_requests(emulator))

    run = jobs.start_replay(store, settings, original, {old_file: new_file})
    assert jobs.wait(run.id, 120)

    run = store.run(run.id)
    assert run.status == "done" and run.replay_of == original and run.file_ids == [new_file]
    assert run.title == f"Replay: {QUESTIONS[0]}"
    assert [t.question for t in store.turns(run.id)] == ["Give me a first look at sales_june.csv", QUESTIONS[1]]
    assert all(t.status == "done" for t in store.turns(run.id))
    assert [r.id for r in store.replays(original)] == [run.id]
    # over the wire: the new file goes with the first question, the second question follows in the same container
    sent = messages_requests(emulator)[sent_before:]
    first = sent[0].json["messages"][-1]["content"]
    assert first[0] == {"type": "text", "text": "Give me a first look at sales_june.csv"}
    assert {"type": "container_upload", "file_id": new_file} in first
    assert all(b.get("file_id") != old_file for b in first)
    assert sent[-1].json["messages"][-1]["content"][0]["text"] == QUESTIONS[1]
    assert sent[-1].json["container"] == run.container_id
    # the replay's own answer is about the new file's rows
    said = " ".join(i.text for i in items_of(store, run.id, 0) if isinstance(i, TextItem))
    assert "`sales_june.csv` has **6 rows**" in said


def test_the_comparison_shows_the_changed_numbers_the_changed_stdout_and_both_charts(emulator, settings, store) -> None:
    original, old_file = finished_run(store, settings)
    new_file = upload(settings, store, "sales_june.csv", CHANGED)
    run = jobs.start_replay(store, settings, original, {old_file: new_file})
    assert jobs.wait(run.id, 120)

    found = load_comparison(store, original, run.id, settings.prices)
    assert found is not None and len(found.diff.turns) == 2
    first = found.diff.turns[0]
    rows = [n for n in first.changed_numbers if n.new.after.startswith("rows")]
    assert [(n.old.value, n.new.value, n.change) for n in rows] == [(4.0, 6.0, 2.0)]
    profile = first.cells[0]
    assert not profile.same
    assert "-Rows: 4" in profile.diff and "+Rows: 6" in profile.diff
    assert found.diff.changed_cells >= 2
    for turn in found.diff.turns:
        assert turn.figures, f"question {turn.idx + 1} made no chart"
        for old, new in turn.figures:
            assert old is not None and new is not None
            assert (settings.data_dir / (old.image or old.spec).path).is_file()
            assert (settings.data_dir / (new.image or new.spec).path).is_file()


def test_a_replay_waits_its_turn_for_a_busy_original_and_refuses_what_it_cannot_do(emulator, settings, store) -> None:
    original, old_file = finished_run(store, settings, QUESTIONS[:1])
    with pytest.raises(AppError, match="not in your library"):
        jobs.start_replay(store, settings, original, {old_file: "file_not_mine"})
    with pytest.raises(replay.ReplayError, match="not found"):
        jobs.start_replay(store, settings, "no-such-run", {})
    bob = store.as_owner("bob")
    with pytest.raises(replay.ReplayError, match="not found"):  # not shared: Bob cannot even see it
        jobs.start_replay(bob, settings, original, {})
    store.update_run(original, shared=True)
    with pytest.raises(replay.ReplayError, match="not in your library"):  # shared, but the file is Alice's
        jobs.start_replay(bob, settings, original, {})
    bobs_file = upload(settings, bob, "bob.csv", CHANGED)
    mine = jobs.start_replay(bob, settings, original, {old_file: bobs_file})
    assert jobs.wait(mine.id, 60)
    assert bob.run(mine.id).status == "done" and bob.run(mine.id).owner == "bob"
    assert store.replays(original) == [], "Alice's list shows her own replays only"


def test_stop_ends_a_replay_and_continue_asks_the_questions_left(emulator, settings, store) -> None:
    original, old_file = finished_run(store, settings)
    new_file = upload(settings, store, "sales_june.csv", CHANGED)
    with emulator.held_analysis("Give me a first look at sales_june.csv", ["sales_june.csv"]):
        run = jobs.start_replay(store, settings, original, {old_file: new_file})
        wait_for(
            lambda: any(isinstance(i, TextItem) for i in items_of(store, run.id)), 30, "the held turn's first words"
        )
        assert jobs.stop(run.id, store)
        assert jobs.wait(run.id, 30)
    assert store.run(run.id).status == "stopped"
    assert replay.progress(store, store.run(run.id)) == (1, 2)

    assert jobs.continue_replay(store, settings, run.id) == 1
    assert jobs.wait(run.id, 60)
    assert [t.status for t in store.turns(run.id)] == ["stopped", "done"]
    assert replay.progress(store, store.run(run.id)) == (2, 2)
    assert jobs.continue_replay(store, settings, run.id) is None


def test_a_budget_reached_half_way_pauses_the_replay_with_a_notice(emulator, settings, store) -> None:
    original, old_file = finished_run(store, settings)
    new_file = upload(settings, store, "sales_june.csv", CHANGED)
    store.update_run(original, budget_usd=0.0001)  # the replay takes the original's budget: spent by question 1
    run = jobs.start_replay(store, settings, original, {old_file: new_file})
    assert jobs.wait(run.id, 60)
    assert store.run(run.id).status == "done"
    assert len(store.turns(run.id)) == 1
    notes = [i.text for i in items_of(store, run.id, 0) if isinstance(i, Notice)]
    assert notes and notes[-1].startswith("The replay paused:") and "budget" in notes[-1].lower()


# --- the diff, on its own ---------------------------------------------------------------------


def test_numbers_pair_by_the_words_around_them() -> None:
    old = "`a_2024.csv` has **240 rows**; revenue grew 12.5% to $4,500 in Q3, mean -3.2 (v1.2.3)."
    new = "`a_2025.csv` has **241 rows**; revenue grew 10% to $4,750 in Q3, mean -3.2 (v1.2.3). Also 7 new rows."
    paired, only_old, only_new = compare_numbers(old, new)
    assert [(p.old.text, p.new.text) for p in paired] == [("240", "241"), ("12.5%", "10%"), ("$4,500", "$4,750"),
                                                          ("-3.2", "-3.2")]  # fmt: skip
    assert [p.changed for p in paired] == [True, True, True, False]
    assert paired[2].change == 250 and paired[2].relative == pytest.approx(250 / 4500)
    assert paired[0].new.before.endswith("has") and paired[0].new.after.startswith("rows")
    assert only_old == [] and [q.text for q in only_new] == ["7"]


def test_unequal_answers_list_what_only_one_quotes_and_zero_has_no_relative_change() -> None:
    paired, only_old, only_new = compare_numbers(
        "There were 0 errors.", "There were 3 errors and 2 warnings in 5 files."
    )
    assert paired[0].relative is None and paired[0].change == 3
    assert [q.text for q in only_new] == ["2", "5"] and only_old == []


def test_cells_and_charts_pair_by_order_and_missing_turns_show_as_not_asked() -> None:
    def turn(stdout: str, chart: str) -> list:
        return [
            CodeCell(tool_use_id="t1", code="print(1)"),
            Output(tool_use_id="t1", stdout=stdout),
            GeneratedFile(file_id="f1", filename=f"{chart}.png", mime_type="image/png", path=f"a/{chart}.png"),
            GeneratedFile(file_id="f2", filename=f"{chart}.vl.json", mime_type="application/json", path="a/s.json"),
            GeneratedFile(file_id="f3", filename="table.csv", mime_type="text/csv", path="a/t.csv"),
        ]

    diff = compare_runs([("q1", turn("a\nb", "x")), ("q2", [])], [("q1", turn("a\nc", "y"))])
    cell = diff.turns[0].cells[0]
    assert cell.diff[2:] == ["@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    (old, new), = diff.turns[0].figures  # fmt: skip
    assert (old.name, old.image.filename, new.name) == ("x.vl.json", "x.png", "y.vl.json")
    assert diff.turns[1].new_question is None and diff.turns[1].old_question == "q2"
    assert [f.name for f in figures(turn("", "z"))] == ["z.vl.json"]


def test_a_question_naming_the_old_file_names_the_new_one() -> None:
    renames = {"sales.csv": "sales_june.csv"}
    assert replay.renamed("Load sales.csv, not sales.csv.bak nor my_sales.csv. Then sales.csv.", renames) == (
        "Load sales_june.csv, not sales.csv.bak nor my_sales.csv. Then sales_june.csv."
    )
    assert replay.compare_columns(["a", "b"], ["b", "c"]) == replay.ColumnCheck(["a"], ["c"])


def test_another_users_runs_cannot_be_compared_or_listed(emulator, settings, store) -> None:
    original, old_file = finished_run(store, settings, QUESTIONS[:1])
    new_file = upload(settings, store, "sales_june.csv", CHANGED)
    run = jobs.start_replay(store, settings, original, {old_file: new_file})
    assert jobs.wait(run.id, 60)
    bob = store.as_owner("bob")
    assert load_comparison(bob, original, run.id, settings.prices) is None
    assert bob.replays(original) == [] and bob.run(run.id) is None
    assert load_comparison(store, original, run.id, settings.prices) is not None


def test_a_faceted_spec_is_narrowed_to_fit_beside_another() -> None:
    facet = {"spec": {"mark": "bar", "width": 600}, "facet": {"field": "c"}, "width": 900}
    narrow = charts.narrowed(facet, 300)
    assert narrow["width"] == 300 and narrow["spec"]["width"] == 300
    assert facet["spec"]["width"] == 600, "the spec on disk is not changed"
    assert charts.narrowed({"mark": "bar", "width": 200}, 300)["width"] == 200
    assert charts.narrowed({"mark": "bar", "width": "container"}, 300)["width"] == "container"
