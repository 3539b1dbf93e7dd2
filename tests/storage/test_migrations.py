"""Migrations on SQLite: a data directory made by the hand-written schema (any version 1-4) upgrades in place and
keeps its rows; the Alembic head matches the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from lib.storage import db
from lib.storage.store import Store
from tests.support.legacy_db import legacy_directory, model_differences


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_data_directory_of_the_hand_written_schema_upgrades_in_place(data_dir: Path, version: int) -> None:
    legacy_directory(data_dir, version)
    store = Store(data_dir)
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchone()[0] == db.head()
    assert raw.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone() is None
    assert store.file("file_old").filename == "old.csv" and store.file("file_old").notes == ""
    assert store.run("run_old").title == "Old run" and store.run("run_old").budget_usd == 0.0
    assert store.run("run_old").name == "Old run"
    assert [s.item.text for s in store.items("run_old")] == ["hi"]
    assert store.turn_state("run_old").status == "done"
    # and the upgraded directory works as a new one would
    run = store.create_run("new", "m", "t", [])
    store.add_turn(run.id, "q", [], request={})
    assert store.claim_turn("w", 10).run_id == run.id


def test_alembic_head_matches_the_models_on_sqlite(data_dir: Path) -> None:
    Store(data_dir)
    assert model_differences(db.sqlite_url(data_dir)) == []


def test_runs_from_before_names_keep_their_titles_as_names(data_dir: Path) -> None:
    # a database as the version before run names left it, with a run and its replay
    url = db.sqlite_url(data_dir)
    engine = sa.create_engine(url)
    command.upgrade(db.alembic_config(engine), "0003_replays")
    with engine.begin() as conn:
        for run_id, title, replay_of in (("r1", "How do sales move?", ""), ("r2", "Replay: How do sales move?", "r1")):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, title, created_at, updated_at, status, model, tool_version, replay_of) "
                    "VALUES (:id, :title, 1.0, 1.0, 'done', 'm', 't', :replay_of)"
                ),
                {"id": run_id, "title": title, "replay_of": replay_of},
            )
    engine.dispose()

    store = Store(data_dir)
    assert sqlite3.connect(store.path).execute("SELECT version_num FROM alembic_version").fetchone()[0] == db.head()
    assert [(r.id, r.name) for r in sorted(store.runs(), key=lambda r: r.id)] == [
        ("r1", "How do sales move?"),
        ("r2", "Replay: How do sales move?"),
    ]
    assert [r.id for r in store.search_runs("replay")] == ["r2"]
    assert store.rename_run("r1", "Sales trend").name == "Sales trend"
