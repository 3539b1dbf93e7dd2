"""Real databases for the SQL source tests: a throwaway PostgreSQL cluster, and SQLite and DuckDB files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.sources import dispose_all
from tests.support.sources import ENGINES, Db, make_duckdb, make_postgres, make_sqlite


@pytest.fixture(autouse=True)
def _fresh_engines() -> Iterator[None]:
    """Each test opens its own engines, and closes them (DuckDB allows one configuration per file and process)."""
    dispose_all()
    yield
    dispose_all()


@pytest.fixture(params=ENGINES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    """The `orders` database on each engine in turn."""
    if request.param == "postgresql":
        return make_postgres(request.getfixturevalue("postgres"), tmp_path)
    if request.param == "sqlite":
        return make_sqlite(tmp_path)
    return make_duckdb(tmp_path)
