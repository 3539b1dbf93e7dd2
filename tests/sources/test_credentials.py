"""A source's password never leaves lib: not in public views, repr, results, errors, the catalog or the logs."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lib.sources import (
    Limits,
    QueryHandle,
    catalog_for,
    load_sources,
    preview,
    prompt_text,
    run_query,
    to_parquet,
    tool_result_text,
)
from tests.support.services import Postgres
from tests.support.sources import PASSWORD, declare, make_postgres

pytestmark = pytest.mark.sources


def test_the_password_is_absent_from_every_public_value_and_the_logs(
    postgres: Postgres, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "psycopg"):
        caplog.set_level(logging.DEBUG, logger=name)
    db = make_postgres(postgres, tmp_path)
    source = db.source
    assert source.url.password == PASSWORD  # it is there, on the app's side
    seen: list[str] = [repr(source), str(source), repr(source.view), source.safe_url, repr(source.url)]

    cat = catalog_for(source)
    assert cat.error is None and cat.table("orders") is not None
    seen += [repr(cat), prompt_text(cat)]
    shown = preview(source, cat.table("orders"))  # type: ignore[arg-type]
    seen += [repr(shown), tool_result_text(shown)]
    for sql in (
        "SELECT id, customer FROM orders ORDER BY id LIMIT 5",
        "SELECT * FROM no_such_table",
        "DROP TABLE orders",
        "SELECT 1; DROP TABLE orders",
        "SELECT current_setting('no.such.setting')",
    ):
        result = run_query(source, sql)
        seen += [repr(result), repr(result.rows), tool_result_text(result), repr(result.summary())]
    slow = run_query(source, db.long_query, limits=Limits(timeout_seconds=0.5))
    assert slow.error is not None and slow.error.kind == "timeout"
    seen += [tool_result_text(slow)]
    handle = QueryHandle()
    handle.cancel()
    seen += [tool_result_text(run_query(source, "SELECT 1", handle=handle))]
    snap = to_parquet(run_query(source, "SELECT id FROM orders LIMIT 3"))
    seen += [repr(snap), repr(pq.read_table(io.BytesIO(snap.data)).schema.metadata)]

    # a server that is not there: the driver's message, the catalog's error
    gone = declare("gone", f"postgresql+psycopg://reader:{PASSWORD}@127.0.0.1:1/nothing")
    failed = run_query(gone, "SELECT 1")
    assert failed.error is not None and failed.error.kind == "connection"
    gone_cat = catalog_for(gone)
    assert gone_cat.error is not None
    seen += [tool_result_text(failed), repr(failed), repr(gone_cat), str(gone_cat.error)]

    # bad declarations holding the password are named without it
    bad = load_sources(
        {
            "sources": {
                "typo": {"url": f"postgresql+psycopg://reader:{PASSWORD}@db/x", "alow": "signed-in"},
                "broken": {"url": f"postgresql+psycopg://reader:{PASSWORD}@db:port/x"},
                "nodriver": {"url": f"nosuchdb://reader:{PASSWORD}@db/x"},
            }
        },
        {"ANALYST_SOURCE_ENV_URL": f"postgresql://reader:{PASSWORD}@db/x", "ANALYST_SOURCE_ENV_MAX_ROWS": "lots"},
    )
    assert {p.source for p in bad.problems} == {"typo", "broken", "nodriver", "env"}
    seen += [repr(bad)] + [str(p) + p.hint for p in bad.problems]

    logged = [record.getMessage() for record in caplog.records]
    assert any(record.name.startswith("sqlalchemy") for record in caplog.records), "SQLAlchemy logged nothing"
    for text in seen + logged:
        assert PASSWORD not in text, text
    assert any("***" in text for text in seen)
