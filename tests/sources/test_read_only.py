"""Every write attempt is refused as an error value the code can read, and the data is unchanged afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.sources import run_query, statement, tool_result_text
from tests.support.services import Postgres
from tests.support.sources import Db, make_postgres

pytestmark = pytest.mark.sources

# refused before they reach the database, on every engine
WRITES = [
    "DROP TABLE orders",
    "INSERT INTO orders (id, customer) VALUES (9999, 'x')",
    "UPDATE orders SET amount = 0",
    "DELETE FROM orders",
    "CREATE TABLE stolen AS SELECT * FROM orders",
    "  /* a comment first */ -- and another\n DROP TABLE orders",
    "ALTER TABLE orders ADD COLUMN x integer",
    "TRUNCATE orders",
]


def _marker_copy(db: Db) -> list[str]:
    marker = db.marker_dir / "copied"
    if db.engine == "postgresql":
        return [
            f"COPY orders TO PROGRAM 'touch {marker}'",
            f"COPY orders TO '{marker}'",
            f"SELECT 1; COPY orders TO PROGRAM 'touch {marker}'",
        ]
    if db.engine == "sqlite":
        return [f"ATTACH DATABASE '{marker}' AS stolen", "PRAGMA user_version = 7", "PRAGMA journal_mode = WAL"]
    return [f"COPY orders TO '{marker}'", f"ATTACH '{marker}' AS stolen", "SET enable_external_access = true"]


# they start as a read and only the engine itself can refuse them
ENGINE_REFUSED = {
    "postgresql": [
        "WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone",
        "SELECT * FROM orders FOR UPDATE",
        "SELECT 1; DROP TABLE orders",
        "SELECT 1; COMMIT; DROP TABLE orders",
    ],
    "sqlite": [
        "WITH x AS (SELECT 1) DELETE FROM orders",
        "WITH x AS (SELECT 1) INSERT INTO orders (id, customer) VALUES (9999, 'x')",
        "SELECT 1; DROP TABLE orders",
        "SELECT load_extension('mod_spatialite')",
    ],
    "duckdb": [
        "SELECT 1; DROP TABLE orders",
        "WITH x AS (SELECT 1) SELECT * FROM x; CREATE TEMP TABLE t AS SELECT 1",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
}


def test_writes_are_refused_and_leave_the_data_unchanged(db: Db) -> None:
    before = db.checksum()
    for sql in WRITES + _marker_copy(db) + ENGINE_REFUSED[db.engine]:
        result = run_query(db.source, sql)
        assert not result.ok, sql
        assert result.error is not None and result.error.kind in ("read_only", "sql"), (sql, result.error)
        assert result.rows == []
        sent = json.loads(tool_result_text(result))
        assert sent["error"]["message"] == result.error.message and "rows" not in sent
    assert not (db.marker_dir / "copied").exists()
    # the engine still answers, and answers with the same data
    assert run_query(db.source, "SELECT count(*) AS n FROM orders").rows == [[500]]
    assert db.checksum() == before


def test_a_refused_write_says_why_in_words_the_code_can_act_on(db: Db) -> None:
    result = run_query(db.source, "DROP TABLE orders")
    assert result.error is not None and result.error.kind == "read_only"
    assert "read-only" in result.error.message and "DROP" in result.error.message
    assert "SELECT" in result.error.hint
    written = run_query(db.source, ENGINE_REFUSED[db.engine][0])
    assert written.error is not None and written.error.message


def test_the_engines_alone_refuse_writes_without_the_first_check(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyword check only words the refusal; read-only transactions, mode=ro and read_only are the guarantee."""
    monkeypatch.setattr(statement, "refusal", lambda sql: None)
    before = db.checksum()
    for sql in WRITES + _marker_copy(db) + ENGINE_REFUSED[db.engine]:
        result = run_query(db.source, sql)
        assert result.error is not None, sql
    assert not (db.marker_dir / "copied").exists()
    assert db.checksum() == before


def test_postgres_keeps_every_transaction_read_only(postgres: Postgres, tmp_path: Path) -> None:
    db = make_postgres(postgres, tmp_path)
    before = db.checksum()
    for sql in (
        "SELECT nextval('no_such_sequence')",
        "SELECT * FROM (SELECT set_config('default_transaction_read_only', 'off', false)) s",
    ):
        run_query(db.source, sql)
    # whatever those did, the next query's transaction is read-only again
    result = run_query(db.source, "WITH gone AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM gone")
    assert result.error is not None
    assert db.checksum() == before
