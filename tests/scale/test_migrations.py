"""Migrations on PostgreSQL: the Alembic head matches the models, and processes starting together migrate a fresh
database once (the SQLite migrations are tested in tests/test_migrations_sqlite.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext

from lib.storage import db
from tests.support.browser import REPO
from tests.support.legacy_db import model_differences
from tests.support.runs import wait_for
from tests.support.services import Postgres, postgres_available

pytestmark = pytest.mark.postgres


def test_alembic_head_matches_the_models_on_postgresql() -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    pg = Postgres().start()
    try:
        url = pg.create("migrations")
        assert model_differences(url) == []
        with db.engine_for(url).connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == db.head()
        db.forget(url)
    finally:
        pg.stop()


def test_processes_starting_together_migrate_a_fresh_postgresql_database_once(tmp_path: Path) -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)")
    pg = Postgres().start()
    try:
        url = pg.create("racing")
        # as workers and replicas do when a deployment starts: each opens the database, which migrates it; each
        # process imports first and says so, then all are let go at once, so they race for the fresh database
        go = tmp_path / "go"
        code = (
            "import sys, time; from pathlib import Path; from lib.storage import db; Path(sys.argv[1]).touch()\n"
            f"while not Path({str(go)!r}).exists(): time.sleep(0.002)\n"
            f"db.engine_for({url!r})"
        )
        ready = [tmp_path / f"ready{i}" for i in range(4)]
        procs = [
            subprocess.Popen([sys.executable, "-c", code, str(r)], cwd=REPO, stderr=subprocess.PIPE, text=True)
            for r in ready
        ]
        wait_for(
            lambda: all(r.exists() or p.poll() is not None for r, p in zip(ready, procs, strict=True)),
            120,
            "every process to have imported lib.storage.db",
        )
        go.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        assert model_differences(url) == []
        db.forget(url)
    finally:
        pg.stop()
