"""SQLite databases as versions 1-4 of the hand-written schema left them, and how a database differs from the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lib.storage import db


def legacy_database(data_dir: Path, version: int) -> sqlite3.Connection:
    """The data directory's database at `version` of the hand-written schema, still empty and open."""
    conn = sqlite3.connect(data_dir / "analyst.sqlite3")
    conn.executescript(db.LEGACY_SCHEMA)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(version),))
    for target in sorted(t for t in db.LEGACY_MIGRATIONS if t <= version):
        for statement in db.LEGACY_MIGRATIONS[target]:
            conn.execute(statement)
    return conn


def legacy_directory(data_dir: Path, version: int, notes: str = "") -> None:
    """A data directory as the app kept it at `version`, with a file (with `notes` from version 2), a run, a turn
    and an item."""
    conn = legacy_database(data_dir, version)
    if version >= 2:
        conn.execute(
            "INSERT INTO files (id, filename, mime_type, size_bytes, sha256, kind, local_path, created_at, notes) "
            "VALUES ('file_old', 'old.csv', 'text/csv', 3, 'h', 'csv', 'uploads/old.csv', 1.0, ?)",
            (notes,),
        )
    else:
        assert not notes, "version 1 files have no notes"
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


def model_differences(url: str) -> list:
    """What Alembic's autogenerate finds between the database at `url` and the models (empty: they match)."""
    engine = db.engine_for(url)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)
