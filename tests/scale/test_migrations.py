"""Migrations: a SQLite data directory made by the hand-written schema (any version 1-4) upgrades in place and
keeps its rows; the Alembic head matches the models on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lib import db
from lib.store import Store
from tests.e2e.conftest import REPO

from .services import Postgres, postgres_available

pytestmark = pytest.mark.postgres


def _legacy_directory(data_dir: Path, version: int) -> None:
    """A data directory as the app kept it at `version` of its hand-written schema, with a run and a file."""
    conn = sqlite3.connect(data_dir / "analyst.sqlite3")
    conn.executescript(db.LEGACY_SCHEMA)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))
    for target in range(2, version + 1):
        for statement in db.LEGACY_MIGRATIONS[target]:
            conn.execute(statement)
    conn.execute(
        "INSERT INTO files (id, filename, mime_type, size_bytes, sha256, kind, local_path, created_at) "
        "VALUES ('file_old', 'old.csv', 'text/csv', 3, 'h', 'csv', 'uploads/old.csv', 1.0)"
    )
    conn.execute(
        "INSERT INTO runs (id, title, created_at, updated_at, status, model, tool_version) "
        "VALUES ('run_old', 'Old run', 1.0, 1.0, 'done', 'claude-sonnet-4-6', 'code_execution_20260521')"
    )
    conn.execute(
        "INSERT INTO turns (run_id, idx, question, status, started_at) VALUES ('run_old', 0, 'Q', 'done', 1.0)"
    )
    conn.execute('INSERT INTO items VALUES (\'run_old\', 0, 0, \'text\', \'{"kind": "text", "text": "hi"}\', 1.0)')
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_a_data_directory_of_the_hand_written_schema_upgrades_in_place(data_dir: Path, version: int) -> None:
    _legacy_directory(data_dir, version)
    store = Store(data_dir)
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT version_num FROM alembic_version").fetchone()[0] == db.head()
    assert raw.execute("SELECT name FROM sqlite_master WHERE name='meta'").fetchone() is None
    assert store.file("file_old").filename == "old.csv" and store.file("file_old").notes == ""
    assert store.run("run_old").title == "Old run" and store.run("run_old").budget_usd == 0.0
    assert [s.item.text for s in store.items("run_old")] == ["hi"]
    assert store.turn_state("run_old").status == "done"
    # and the upgraded directory works as a new one would
    run = store.create_run("new", "m", "t", [])
    store.start_turn(run.id, "q", [], request={})
    assert store.claim_turn("w", 10).run_id == run.id


def _diff(url: str) -> list:
    engine = db.engine_for(url)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)


def test_alembic_head_matches_the_models_on_sqlite(data_dir: Path) -> None:
    Store(data_dir)
    assert _diff(db.sqlite_url(data_dir)) == []


def test_alembic_head_matches_the_models_on_postgresql() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    pg = Postgres().start()
    try:
        url = pg.create("migrations")
        assert _diff(url) == []
        with db.engine_for(url).connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == db.head()
        db.forget(url)
    finally:
        pg.stop()


def test_processes_starting_together_migrate_a_fresh_postgresql_database_once() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    pg = Postgres().start()
    try:
        url = pg.create("racing")
        # as workers and replicas do when a deployment starts: each opens the database, which migrates it
        start = time.time() + 2.0
        code = f"import time; time.sleep(max(0, {start} - time.time())); from lib import db; db.engine_for({url!r})"
        procs = [
            subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE, text=True)
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        assert _diff(url) == []
        db.forget(url)
    finally:
        pg.stop()
