"""Timeout, row and byte caps, several queries on one engine, and Stop from another thread during a query."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

from lib.sources import Limits, QueryHandle, QueryResult, run_query, tool_result_text
from lib.sources.engines import engine_for
from tests.support.runs import wait_for
from tests.support.services import Postgres
from tests.support.sources import Db, make_postgres

pytestmark = pytest.mark.sources


def test_a_query_past_its_timeout_is_stopped_and_the_engine_answers_again(db: Db) -> None:
    started = time.monotonic()
    result = run_query(db.source, db.long_query, limits=Limits(timeout_seconds=1.0))
    assert result.error is not None and result.error.kind == "timeout", result.error
    assert "1 s limit" in result.error.message and "LIMIT" in result.error.hint
    assert time.monotonic() - started < 20  # stopped, not run to the end (minutes)
    assert json.loads(tool_result_text(result))["error"]["kind"] == "timeout"
    assert run_query(db.source, "SELECT count(*) FROM orders").rows == [[500]]


def test_the_row_cap_cuts_the_result_and_the_result_says_so(db: Db) -> None:
    result = run_query(db.source, db.series(1_000), limits=Limits(max_rows=100))
    assert result.ok and result.row_count == 100 and result.truncated
    assert "row cap" in result.truncated_reason and "100 rows" in result.truncated_reason
    assert [row[0] for row in result.rows] == list(range(1, 101))
    sent = json.loads(tool_result_text(result))
    assert sent["truncated"] is True and sent["row_count"] == 100 and "more rows exist" in sent["note"]
    exact = run_query(db.source, db.series(100), limits=Limits(max_rows=100))
    assert exact.row_count == 100 and not exact.truncated
    assert "note" not in json.loads(tool_result_text(exact))


def test_the_byte_cap_cuts_the_result_within_the_cap(db: Db) -> None:
    cap = 20_000
    result = run_query(db.source, db.series(1_000, pad=100), limits=Limits(max_bytes=cap))
    assert result.ok and result.truncated and "byte cap" in result.truncated_reason
    assert 100 < result.row_count < 200  # about 110 bytes a row
    text = tool_result_text(result)
    assert len(text.encode()) <= cap
    sent = json.loads(text)
    assert sent["rows"] == result.rows and sent["truncated"] is True
    # the string sent back never exceeds what the caller allows, and says when that cut it further
    smaller = tool_result_text(result, max_bytes=5_000)
    assert len(smaller.encode()) <= 5_000
    cut = json.loads(smaller)
    assert cut["truncated"] is True and 0 < cut["row_count"] < result.row_count and "5,000 bytes" in cut["note"]


def test_several_queries_in_a_row_share_one_engine(db: Db) -> None:
    engine = engine_for(db.source)
    results: list[QueryResult] = []
    for i in range(1, 13):
        sql = "SELECT * FROM no_such_table" if i % 4 == 0 else f"SELECT id, customer FROM orders WHERE id <= {i}"
        results.append(run_query(db.source, sql))
        assert engine_for(db.source) is engine
    for i, result in enumerate(results, start=1):
        if i % 4 == 0:
            assert result.error is not None and result.error.kind == "sql" and "no_such_table" in result.error.message
        else:
            assert result.ok and result.row_count == i, result.error
    assert [c.name for c in results[0].columns] == ["id", "customer"]
    assert engine.pool.checkedout() == 0  # every connection went back to the pool


def test_queries_from_several_threads_at_once(db: Db) -> None:
    out: dict[int, QueryResult] = {}

    def ask(i: int) -> None:
        out[i] = run_query(db.source, f"SELECT count(*) FROM orders WHERE id <= {i * 10}")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {i: r.rows for i, r in out.items()} == {i: [[i * 10]] for i in range(1, 7)}


def test_cancel_from_another_thread_stops_a_running_query(db: Db) -> None:
    handle = QueryHandle()
    out: list[QueryResult] = []
    worker = threading.Thread(target=lambda: out.append(run_query(db.source, db.long_query, handle=handle)))
    worker.start()
    wait_for(lambda: handle.running, 20, "the query to start")  # cancelled as early as Stop could be
    stopped_at = time.monotonic()
    handle.cancel()
    worker.join(20)
    assert not worker.is_alive(), "the query did not stop"
    assert time.monotonic() - stopped_at < 10
    assert out[0].error is not None and out[0].error.kind == "cancelled", out[0].error
    assert run_query(db.source, "SELECT count(*) FROM orders").rows == [[500]]


def test_a_handle_cancelled_before_the_query_stops_it_at_once(db: Db) -> None:
    handle = QueryHandle()
    handle.cancel()
    result = run_query(db.source, db.long_query, handle=handle)
    assert result.error is not None and result.error.kind == "cancelled"


def test_a_connection_the_server_drops_is_an_error_and_the_next_query_reconnects(
    postgres: Postgres, tmp_path: Path
) -> None:
    db = make_postgres(postgres, tmp_path)
    out: list[QueryResult] = []
    handle = QueryHandle()
    worker = threading.Thread(target=lambda: out.append(run_query(db.source, db.long_query, handle=handle)))
    worker.start()
    wait_for(lambda: handle.running, 20, "the query to start")
    admin = f"postgresql://postgres@127.0.0.1:{postgres.port}/{db.source.url.database}"

    def killed() -> bool:
        with psycopg.connect(admin, autocommit=True) as conn:
            sql = (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
            )
            return any(row[0] for row in conn.execute(sql))

    wait_for(killed, 20, "the server to drop the query's connection")
    worker.join(20)
    assert out[0].error is not None and out[0].error.kind == "connection", out[0].error
    assert run_query(db.source, "SELECT count(*) FROM orders").rows == [[500]]
