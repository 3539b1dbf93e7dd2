"""Run names and finding runs: what a typed search means, the store's owner-scoped search and renames (on SQLite,
and on PostgreSQL with -m postgres)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from lib import identity
from lib.errors import NotAllowedError
from lib.storage import db
from lib.storage.records import NAME_LIMIT, FileRecord, RunRecord
from lib.storage.search import RunQuery, parse
from lib.storage.store import Store
from lib.storage.users import store_for

TODAY = date(2026, 12, 3)
ALICE = identity.from_claims({"iss": "https://idp.example.com/", "sub": "a-1"}, frozenset())
BOB = identity.from_claims({"iss": "https://idp.example.com/", "sub": "b-2"}, frozenset())


def _at(*day: int) -> float:
    return datetime(*day).timestamp()


# --- what a search says -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "since", "until"),
    [
        ("2026-12-03", (2026, 12, 3), (2026, 12, 4)),
        ("2026-12", (2026, 12, 1), (2027, 1, 1)),
        ("2026-2", (2026, 2, 1), (2026, 3, 1)),
        ("2026", (2026, 1, 1), (2027, 1, 1)),
        ("2026/12/3", (2026, 12, 3), (2026, 12, 4)),
        ("today", (2026, 12, 3), (2026, 12, 4)),
        ("Yesterday", (2026, 12, 2), (2026, 12, 3)),
        ("2026-11-28..2026-12-01", (2026, 11, 28), (2026, 12, 2)),
        ("2026-11..2026-12", (2026, 11, 1), (2027, 1, 1)),
        ("2026-11-28 to 2026-12-01", (2026, 11, 28), (2026, 12, 2)),
        ("2026-12 2026-12-03", (2026, 12, 3), (2026, 12, 4)),  # two dates: both hold
    ],
)
def test_a_date_finds_the_days_it_covers(text: str, since: tuple[int, ...], until: tuple[int, ...]) -> None:
    assert parse(text, TODAY) == RunQuery((), _at(*since), _at(*until))


def test_open_ranges_and_words_beside_dates() -> None:
    assert parse("2026-12-01..", TODAY) == RunQuery((), _at(2026, 12, 1), None)
    assert parse("..2026-12-01", TODAY) == RunQuery((), None, _at(2026, 12, 2))
    assert parse("  churn   sales.csv 2026-12 ", TODAY) == RunQuery(
        ("churn", "sales.csv"), _at(2026, 12, 1), _at(2027, 1, 1)
    )
    assert parse("", TODAY) == RunQuery()
    assert parse("2026-12-01..2026-11-28", TODAY) == RunQuery((), _at(2026, 11, 28), _at(2026, 12, 2))  # reversed


@pytest.mark.parametrize("text", ["2026-13", "2026-02-30", "1234", "12-03", "..", "a..b", "2026-12-01..x", "to"])
def test_what_is_no_date_is_a_word(text: str) -> None:
    assert parse(text, TODAY) == RunQuery((text,))


def test_a_range_word_between_words_stays_a_word() -> None:
    assert parse("sales to region", TODAY) == RunQuery(("sales", "to", "region"))


# --- the store's search -------------------------------------------------------------------------


def _run(store: Store, question: str, files: list[str], started: float, follow_up: str = "") -> RunRecord:
    run = store.create_run(question, "m", "t", files)
    store.add_turn(run.id, question, [])
    if follow_up:
        store.add_turn(run.id, follow_up, [])
    store.update_run(run.id, created_at=started, status="done")
    return run


def _file(store: Store, file_id: str, name: str) -> str:
    store.add_file(FileRecord(file_id, name, "text/csv", 1, file_id, "csv", "", time.time()))
    return file_id


def _ids(runs: list[RunRecord]) -> set[str]:
    return {r.id for r in runs}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_users(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[tuple[Store, Store]]:
    url = ""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create(f"search_{uuid.uuid4().hex[:12]}")
    base = Store(data_dir, url=url)
    yield store_for(base, ALICE), store_for(base, BOB)
    if url:
        db.forget(url)


def test_runs_are_found_by_name_question_file_and_date(two_users) -> None:
    alice, _ = two_users
    sales = _file(alice, "file_s1", "monthly_sales.csv")
    churn = _file(alice, "file_c1", "Churn_2026.xlsx")
    first = _run(alice, "Give me a first look", [sales], _at(2026, 11, 30, 9), follow_up="Which region grew most?")
    rerun = _run(alice, "Give me a first look", [sales, churn], _at(2026, 12, 3, 15))
    other = _run(alice, "What drives cancellations?", [churn], _at(2026, 12, 3, 16))
    alice.rename_run(rerun.id, "Q4 board pack")

    assert _ids(alice.search_runs("")) == {first.id, rerun.id, other.id}
    assert _ids(alice.search_runs("board")) == {rerun.id}  # the new name
    assert _ids(alice.search_runs("q4 BOARD pack")) == {rerun.id}  # any case, every word
    assert _ids(alice.search_runs("first look")) == {first.id, rerun.id}  # its question, though renamed
    assert _ids(alice.search_runs("region")) == {first.id}  # a follow-up's question
    assert _ids(alice.search_runs("monthly_sales")) == {first.id, rerun.id}  # an input file's name
    assert _ids(alice.search_runs("churn_2026.XLSX")) == {rerun.id, other.id}
    assert _ids(alice.search_runs("2026-12-03")) == {rerun.id, other.id}
    assert _ids(alice.search_runs("2026-11")) == {first.id}
    assert _ids(alice.search_runs("first 2026-12")) == {rerun.id}
    assert _ids(alice.search_runs("board 2026-11")) == set()
    assert _ids(alice.search_runs("2026-11-30..2026-12-02")) == {first.id}
    # most recently active first, at most `limit`
    assert [r.id for r in alice.search_runs("", limit=2)] == [other.id, rerun.id]


def test_percent_and_underscore_are_only_themselves(two_users) -> None:
    alice, _ = two_users
    growth = _run(alice, "Growth of 10% by region_code", [], _at(2026, 12, 1))
    _run(alice, "Growth of 105 by regionXcode", [], _at(2026, 12, 1))
    assert _ids(alice.search_runs("10%")) == {growth.id}
    assert _ids(alice.search_runs("region_code")) == {growth.id}


def test_a_file_counts_only_for_the_runs_it_was_given_to(two_users) -> None:
    alice, _ = two_users
    one = _file(alice, "file_1", "one.csv")
    _file(alice, "file_10", "ten.csv")  # its id starts with the other's
    with_one = _run(alice, "q", [one], _at(2026, 12, 1))
    with_ten = _run(alice, "q", ["file_10"], _at(2026, 12, 1))
    assert _ids(alice.search_runs("one.csv")) == {with_one.id}
    assert _ids(alice.search_runs("ten.csv")) == {with_ten.id}


def test_another_users_runs_are_never_found(two_users) -> None:
    alice, bob = two_users
    secret = _file(alice, "file_secret", "secret_payroll.csv")
    run = _run(alice, "Payroll outliers", [secret], _at(2026, 12, 3))
    alice.rename_run(run.id, "Payroll board")
    alice.update_run(run.id, shared=True)  # even shared: readable by link, never listed or found
    mine = _run(bob, "Sales", [], _at(2026, 12, 3))
    for text in ("payroll", "board", "secret_payroll.csv", "2026-12-03", ""):
        assert alice.run(run.id) is not None
        assert run.id not in _ids(bob.search_runs(text)), text
    assert _ids(bob.search_runs("2026-12-03")) == {mine.id}
    assert bob.runs_named("Payroll board") == [] and bob.file_names([secret]) == {}
    # Bob's file of the same name does not bring Alice's runs in either
    _file(bob, "file_b", "secret_payroll.csv")
    assert bob.search_runs("secret_payroll") == []


# --- names and renames --------------------------------------------------------------------------


def test_a_run_is_named_by_its_question_until_renamed(two_users) -> None:
    alice, _ = two_users
    run = _run(alice, "How do sales move?", [], _at(2026, 12, 3))
    assert run.name == run.title == "How do sales move?"
    before = alice.run(run.id)
    renamed = alice.rename_run(run.id, "  Sales\n trend \t 2026  ")
    assert renamed.name == "Sales trend 2026" and renamed.title == "How do sales move?"
    assert renamed.updated_at == before.updated_at  # a rename is not activity: the run keeps its place in lists
    assert alice.rename_run(run.id, "x" * (NAME_LIMIT + 50)).name == "x" * NAME_LIMIT
    assert alice.rename_run(run.id, "   ").name == "How do sales move?"  # empty: the question again
    twin = _run(alice, "Another question", [], _at(2026, 12, 3))
    alice.rename_run(run.id, "Same name")
    alice.rename_run(twin.id, "same NAME")  # duplicates are fine
    assert _ids(alice.runs_named("SAME name")) == {run.id, twin.id}
    assert alice.runs_named("Same") == [] and alice.runs_named("") == []


def test_only_the_owner_renames_a_run(two_users) -> None:
    alice, bob = two_users
    run = _run(alice, "Alice's question", [], _at(2026, 12, 3))
    with pytest.raises(NotAllowedError, match="no such run"):
        bob.rename_run(run.id, "Bob's now")
    alice.update_run(run.id, shared=True)
    with pytest.raises(NotAllowedError, match="read-only"):
        bob.rename_run(run.id, "Bob's now")
    assert alice.run(run.id).name == "Alice's question" and bob.run(run.id).name == "Alice's question"
