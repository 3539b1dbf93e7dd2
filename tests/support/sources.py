"""The same small `orders` database on PostgreSQL, SQLite and DuckDB, declared as a source the way an operator
would, with what each engine needs to check it from outside (a writable connection, a long query)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from lib.sources import SourceConfig, dispose_all, load_sources
from tests.support.services import Postgres

ENGINES = ("postgresql", "sqlite", "duckdb")
PASSWORD = "pw-Zq81-secret"  # in every test URL, so its absence from what leaves lib can be checked
ORDERS = 500


def order_rows() -> list[tuple[Any, ...]]:
    """id, customer, amount, placed, paid, note (every seventh note missing)."""
    start = dt.date(2024, 1, 1)
    return [
        (
            i,
            f"customer {i % 17}",
            Decimal(f"{(i * 37) % 1000}.{i % 100:02d}"),
            start + dt.timedelta(days=i % 365),
            i % 3 == 0,
            None if i % 7 == 0 else f"note {i}",
        )
        for i in range(1, ORDERS + 1)
    ]


@dataclass
class Db:
    """One engine's database: its declared source, a way to read it unguarded, and engine-specific SQL."""

    engine: str
    source: SourceConfig
    checksum: Callable[[], tuple[Any, ...]]  # (rows, sum of amounts) read outside lib.sources
    long_query: str  # runs for minutes unless stopped
    marker_dir: Path  # a folder the database server could write to, where no write attempt may leave a file

    def series(self, n: int, pad: int = 1) -> str:
        """A query of n rows: a number and a text of pad characters."""
        if self.engine == "postgresql":
            return f"SELECT g AS n, repeat('x', {pad}) AS pad FROM generate_series(1, {n}) AS g"
        if self.engine == "sqlite":
            return (
                f"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {n}) "
                f"SELECT n, replace(hex(zeroblob({pad})), '00', 'x') AS pad FROM r"
            )
        return f"SELECT range + 1 AS n, repeat('x', {pad}) AS pad FROM range({n})"


def declare(name: str, url: str, **extra: Any) -> SourceConfig:
    """A source through the operator's path: a `[sources.NAME]` table in secrets."""
    declared = load_sources({"sources": {name: {"url": url, "description": f"{name} test data", **extra}}}, {})
    assert not declared.problems, declared.problems
    return declared.sources[0]


def make_postgres(pg: Postgres, tmp: Path) -> Db:
    """A new database in the cluster, read through the superuser (the strongest test of the read-only guards)."""
    name = f"orders_{uuid.uuid4().hex[:8]}"
    admin_url = pg.create(name).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(10, 2), "
            "placed date, paid boolean, note text)"
        )
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s)", order_rows())
        conn.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 500")
        conn.execute("CREATE SCHEMA archive")
        conn.execute("CREATE TABLE archive.old_orders AS SELECT * FROM orders WHERE id <= 10")
        conn.execute("ANALYZE")

    def checksum() -> tuple[Any, ...]:
        with psycopg.connect(admin_url) as conn:
            return tuple(conn.execute("SELECT count(*), sum(amount) FROM orders").fetchone() or ())

    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{pg.port}/{name}"
    return Db("postgresql", declare("shop_pg", url), checksum, "SELECT pg_sleep(120)", pg.root)


def make_sqlite(tmp: Path) -> Db:
    """A SQLite file without statistics (row counts are counted)."""
    path = tmp / "orders.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount NUMERIC, placed DATE, "
            "paid BOOLEAN, note TEXT)"
        )
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            [(i, c, float(a), p.isoformat(), int(paid), n) for i, c, a, p, paid, n in order_rows()],
        )
        conn.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 500")
    conn.close()

    def checksum() -> tuple[Any, ...]:
        with sqlite3.connect(path) as conn:
            return tuple(conn.execute("SELECT count(*), round(sum(amount), 2) FROM orders").fetchone() or ())

    source = declare("shop_sqlite", f"sqlite:///{path}")
    long_query = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
    return Db("sqlite", source, checksum, long_query, tmp)


def make_duckdb(tmp: Path) -> Db:
    """A DuckDB file."""
    path = tmp / "orders.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer VARCHAR NOT NULL, amount DECIMAL(10, 2), "
        "placed DATE, paid BOOLEAN, note VARCHAR)"
    )
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", order_rows())
    conn.execute("CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 500")
    conn.close()

    def checksum() -> tuple[Any, ...]:
        dispose_all()  # one configuration per file and process: the source's read-only engine goes first
        with duckdb.connect(str(path), read_only=True) as conn:
            return tuple(conn.execute("SELECT count(*), sum(amount) FROM orders").fetchone() or ())

    long_query = "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b"
    return Db("duckdb", declare("shop_duckdb", f"duckdb:///{path}"), checksum, long_query, tmp)


def declare_in_environ(monkeypatch: Any, name: str, source: SourceConfig, **keys: Any) -> None:
    """Declare the source's database as `name` the way an operator would in the environment (the app, its jobs
    and its workers read declarations from there), with extra keys such as timeout_seconds or allow."""
    prefix = f"ANALYST_SOURCE_{name.upper()}_"
    monkeypatch.setenv(prefix + "URL", source.url.render_as_string(hide_password=False))
    monkeypatch.setenv(prefix + "DESCRIPTION", f"{name} test data")
    for key, value in keys.items():
        monkeypatch.setenv(prefix + key.upper(), str(value))
