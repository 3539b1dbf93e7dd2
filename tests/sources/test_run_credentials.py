"""A source's password (and its URL) stays on the app's side through a whole run: not sent to the API, not in
any table of the store, not in a log line, not in the notebook, the report or the zip."""

from __future__ import annotations

import io
import logging
import sqlite3
import zipfile

import pytest

from lib.emulator import Python, Text
from lib.runs import export, jobs
from lib.runs.view import load_run_view
from lib.transcript import Query
from tests.support.runs import items_of
from tests.support.services import Postgres
from tests.support.sources import PASSWORD, declare_in_environ, make_postgres

pytestmark = pytest.mark.sources

CELL = """\
ok = await sql(source="shop", query="SELECT customer, sum(amount) AS total FROM orders GROUP BY customer")
print("customers:", ok["row_count"])
bad = await sql(source="shop", query="SELECT * FROM no_such_table")
print("bad:", bad["error"]["kind"])
"""


def test_the_password_is_nowhere_but_in_the_declaration(
    postgres: Postgres, tmp_path, emulator, settings, store, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "psycopg", "httpx", "anthropic"):
        caplog.set_level(logging.DEBUG, logger=name)
    db = make_postgres(postgres, tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    url = db.source.url.render_as_string(hide_password=False)
    assert PASSWORD in url

    emulator.queue_script([Text("Querying."), Python(CELL), Text("17 customers.")])
    run = jobs.new_run(store, settings, "Who are the customers?", [], sources=["shop"])
    assert jobs.wait(run.id, 60)
    found = [i for i in items_of(store, run.id) if isinstance(i, Query)]
    assert [q.error_kind for q in found] == ["", "sql"]  # the driver's own error message went along too

    # what the API received
    sent = [r.body.decode() for r in emulator.requests]
    # every row of every table of the store
    dumped = []
    with sqlite3.connect(store.path) as conn:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            dumped += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"')]
    assert any("shop" in row for row in dumped)
    # the exports
    view = load_run_view(store, run.id, settings.prices)
    notebook = export.notebook(view, settings.data_dir, [])
    report = export.markdown(view)
    with zipfile.ZipFile(io.BytesIO(export.report_zip(view, settings.data_dir, []))) as zf:
        bundle = [zf.read(name).decode("latin-1") for name in zf.namelist()]
    assert "ANALYST_SOURCE_SHOP_URL" in notebook and "SELECT customer" in report
    logged = [record.getMessage() for record in caplog.records]
    assert any(record.name.startswith("sqlalchemy") for record in caplog.records), "SQLAlchemy logged nothing"

    for where, texts in {
        "requests": sent,
        "store": dumped,
        "logs": logged,
        "exports": [notebook, report, *bundle],
    }.items():
        for text in texts:
            assert PASSWORD not in text, where
            assert url not in text and f"127.0.0.1:{postgres.port}" not in text, where
