"""Run names as the layers above the store use them: labels that tell reruns apart, finding a run by its id or
name, renames by the owner only, and the name in replays, comparisons and exports."""

from __future__ import annotations

import io
import time
import zipfile
from dataclasses import replace
from datetime import datetime

import nbformat
import pytest

from lib import identity
from lib.errors import NotAllowedError
from lib.runs import export, names, replay
from lib.runs.view import load_comparison, load_run_view
from lib.settings import Settings
from lib.storage.records import FileRecord
from lib.storage.store import Store
from lib.storage.users import store_for
from tests.support.seed import seed_chart_run

STARTED = datetime(2026, 12, 3, 14, 5).timestamp()


def _file(store: Store, file_id: str, name: str) -> str:
    store.add_file(FileRecord(file_id, name, "text/csv", 1, file_id, "csv", "", time.time()))
    return file_id


def test_a_label_tells_reruns_of_one_question_apart(store) -> None:
    files = [_file(store, f"file_{n}", f"{n}.csv") for n in ("sales", "costs", "staff", "stock")]
    first = store.create_run("How do sales move?", "m", "t", files[:1])
    second = store.create_run("How do sales move?", "m", "t", [*files, "file_gone"])
    for run in (first, second):
        store.update_run(run.id, created_at=STARTED, status="done")
    store.update_run(second.id, created_at=STARTED + 3600, status="error")
    one, two = names.entries(store, [store.run(first.id), store.run(second.id)])
    assert one.label == "How do sales move? · 2026-12-03 14:05 · sales.csv · done"
    assert two.label == "How do sales move? · 2026-12-03 15:05 · sales.csv, costs.csv +3 more · error"
    assert two.files[-1] == "file_gone"  # no longer in the library: its id
    store.rename_run(first.id, "A name far longer than a list has room for, so it is cut short with a mark")
    [long] = names.entries(store, [store.run(first.id)])
    assert (
        long.label == "A name far longer than a list has room for, so it is cut… · 2026-12-03 14:05 · sales.csv · done"
    )
    empty = store.create_run("No files", "m", "t", [])
    assert names.entries(store, [empty])[0].files_text == "no files"


def test_find_gives_entries_of_matching_runs(store) -> None:
    sales = _file(store, "file_s", "monthly_sales.csv")
    run = store.create_run("First look", "m", "t", [sales])
    store.create_run("Other", "m", "t", [])
    [found] = names.find(store, "monthly_sales")
    assert found.run.id == run.id and found.files == ["monthly_sales.csv"]
    assert len(names.find(store, "")) == 2


def test_a_run_is_found_by_its_id_the_start_of_it_or_its_name(store) -> None:
    one = store.create_run("How do sales move?", "m", "t", [])
    two = store.create_run("How do sales move?", "m", "t", [])
    assert names.matching(store, one.id) == [store.run(one.id)]
    assert {r.id for r in names.matching(store, one.id[:6])} == {r.id for r in (one, two) if r.id[:6] == one.id[:6]}
    assert names.matching(store, one.id[:3]) == []  # too short to stand for an id, and no run's name
    assert {r.id for r in names.matching(store, "how do SALES move?")} == {one.id, two.id}  # ambiguous
    names.rename(store, two.id, "Sales, second try")
    assert [r.id for r in names.matching(store, "  sales, second TRY ")] == [two.id]
    assert [r.id for r in names.matching(store, "How do sales move?")] == [one.id]
    assert names.matching(store, "Sales") == []  # a name is matched whole
    # a name that is also the start of another run's id is ambiguous
    names.rename(store, one.id, two.id[:5])
    assert {r.id for r in names.matching(store, two.id[:5])} == {one.id, two.id}


def test_only_the_owner_renames_through_lib_and_a_reader_of_a_shared_run_cannot(data_dir) -> None:
    base = Store(data_dir)
    claims = {"iss": "https://idp.example.com/"}
    alice = store_for(base, identity.from_claims({**claims, "sub": "a"}, frozenset()))
    bob = store_for(base, identity.from_claims({**claims, "sub": "b"}, frozenset()))
    run = alice.create_run("Alice asks", "m", "t", [])
    alice.update_run(run.id, shared=True)
    with pytest.raises(NotAllowedError, match="shared with you read-only"):
        names.rename(bob, run.id, "Bob's")
    assert names.rename(alice, run.id, "Alice's name").name == "Alice's name"
    assert bob.run(run.id).name == "Alice's name"  # the reader sees the owner's name


def test_a_replay_is_named_after_the_originals_name_and_compared_under_both_names(data_dir) -> None:
    store = Store(data_dir)
    original = store.run(seed_chart_run(data_dir))
    store.rename_run(original.id, "Revenue by region")
    original = store.run(original.id)
    assert replay.title_for(original) == "Replay: Revenue by region"
    assert replay.title_for(replace(original, name="Replay: Revenue by region")) == "Replay: Revenue by region"
    rerun = store.run(seed_chart_run(data_dir))
    store.rename_run(rerun.id, "Revenue, December data")
    found = load_comparison(store, original.id, rerun.id, Settings().prices)
    assert found is not None and found.names == ("Revenue by region", "Revenue, December data")


def test_exports_carry_the_name(data_dir) -> None:
    store = Store(data_dir)
    run_id = seed_chart_run(data_dir)
    store.rename_run(run_id, "Revenue by region, Q4")
    view = load_run_view(store, run_id, Settings().prices)
    assert view is not None
    nb = nbformat.reads(export.notebook(Store(data_dir), view, data_dir), as_version=4)
    assert nb.metadata["title"] == "Revenue by region, Q4"
    assert nb.cells[0].source.startswith("# Revenue by region, Q4\n")
    report = zipfile.ZipFile(io.BytesIO(export.report_zip(Store(data_dir), view, data_dir))).read("report.md").decode()
    assert report.startswith("# Revenue by region, Q4\n")
