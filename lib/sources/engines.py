"""One pooled, read-only SQLAlchemy engine per source, made on first use and reused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from lib.sources.config import SourceConfig

_engines: dict[tuple[str, sa.URL], sa.Engine] = {}
_lock = threading.Lock()

# what a SQLite connection may do: read tables, call functions, recurse, and read the schema through pragmas
SQLITE_READS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
SQLITE_READ_PRAGMAS = {
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "database_list",
    "collation_list",
}
# DuckDB: no files, extensions or settings beyond the database opened read-only
DUCKDB_CONFIG = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def engine_for(source: SourceConfig) -> sa.Engine:
    """The source's engine (created once per URL and reused); connecting happens at first use."""
    key = (source.name, source.url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _create(source)
        return engine


def dispose_all() -> None:
    """Close every pooled connection (tests; a changed declaration)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create(source: SourceConfig) -> sa.Engine:
    dialect = source.dialect
    common: dict[str, Any] = {"echo": False, "hide_parameters": True, "pool_pre_ping": True}
    if dialect == "sqlite":
        return _sqlite(source, common)
    if dialect == "duckdb":
        return sa.create_engine(source.url, connect_args={"read_only": True, "config": dict(DUCKDB_CONFIG)}, **common)
    if dialect == "postgresql":
        args = {} if "connect_timeout" in source.url.query else {"connect_timeout": 10}
        engine = sa.create_engine(source.url, connect_args=args, **common)
        millis = str(max(1, int(source.limits.timeout_seconds * 1000)))

        def session(dbapi_conn: Any, _record: Any) -> None:
            _postgres_session(dbapi_conn, millis)

        event.listen(engine, "connect", session)
        return engine
    return sa.create_engine(source.url, **common)


def _sqlite(source: SourceConfig, common: dict[str, Any]) -> sa.Engine:
    """Opened `mode=ro` through a file: URI (never creates the file), with an authorizer that allows only reads."""
    uri = Path(source.url.database or "").as_uri()
    url = sa.engine.URL.create("sqlite", database=uri, query={"mode": "ro", "uri": "true"})
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **common)
    event.listen(engine, "connect", _sqlite_session)
    return engine


def _sqlite_session(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    dbapi_conn.set_authorizer(_sqlite_authorize)
    dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)


def _sqlite_authorize(action: int, arg1: str | None, _arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action in SQLITE_READS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in SQLITE_READ_PRAGMAS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _postgres_session(dbapi_conn: Any, timeout_millis: str) -> None:
    """Every transaction of the session read-only and timed out by default (each query sets both again)."""
    with dbapi_conn.cursor() as cur:
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        cur.execute("SELECT set_config('statement_timeout', %s, false)", (timeout_millis,))
    dbapi_conn.commit()
