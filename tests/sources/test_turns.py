"""Runs whose code queries SQL sources (programmatic tool calling), through the app's own jobs, the real SDK and
the emulator, on PostgreSQL, SQLite and DuckDB: several queries in one cell, writes refused, limits seen by the
code, Stop during a query, results cut to what a request carries, and a refused container mid-cell."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from lib.emulator import Emulator, Fault, Python, Text
from lib.errors import AppError
from lib.runs import jobs
from lib.settings import Settings
from lib.storage.db import turns
from lib.storage.store import Store
from lib.transcript import CodeCell, Output, Query, RunError
from lib.turn import queries
from tests.support.runs import items_of, messages_requests, wait_for
from tests.support.services import Postgres
from tests.support.sources import Db, declare_in_environ, make_postgres, make_sqlite

pytestmark = pytest.mark.sources

SEVERAL = """\
import asyncio
total = await sql(source="shop", query="SELECT count(*) AS n FROM orders")
print("orders:", total["rows"][0][0])
paid, big = await asyncio.gather(
    sql(source="shop", query="SELECT count(*) AS n FROM orders WHERE paid"),
    sql(source="shop", query="SELECT count(*) AS n FROM big_orders"),
)
print("paid:", paid["rows"][0][0], "big:", big["rows"][0][0])
"""


def ask(store: Store, settings: Settings, emulator: Emulator, steps: list, question: str = "How many orders?") -> str:
    """A run on the `shop` source playing these steps; returns its id once it has ended."""
    emulator.queue_script(steps)
    run = jobs.new_run(store, settings, question, [], sources=["shop"])
    assert jobs.wait(run.id, 90)
    return run.id


def output_of(store: Store, run_id: str, turn: int | None = None) -> Output:
    """What the run's (or the turn's) first code cell printed."""
    return next(i for i in items_of(store, run_id, turn) if isinstance(i, Output))


def queries_of(store: Store, run_id: str) -> list[Query]:
    return [i for i in items_of(store, run_id) if isinstance(i, Query)]


def test_a_cell_runs_several_queries_and_goes_on_in_the_same_container(
    db: Db, emulator, settings, store, monkeypatch
) -> None:
    declare_in_environ(monkeypatch, "shop", db.source)
    run_id = ask(store, settings, emulator, [Text("Counting."), Python(SEVERAL), Text("Done.")])

    run = store.run(run_id)
    assert run.status == "done" and run.sources == ["shop"]
    items = items_of(store, run_id)
    assert [type(i).__name__ for i in items] == ["Text", "CodeCell", "Query", "Query", "Query", "Output", "Text"]
    cell, found, output = items[1], queries_of(store, run_id), items[5]
    assert isinstance(cell, CodeCell) and isinstance(output, Output)
    assert [q.sql for q in found] == [
        "SELECT count(*) AS n FROM orders",
        "SELECT count(*) AS n FROM orders WHERE paid",
        "SELECT count(*) AS n FROM big_orders",
    ]
    assert all(q.code_tool_use_id == cell.tool_use_id and q.row_count == 1 and not q.error for q in found)
    assert found[0].columns == ["n"] and all(q.source == "shop" and not q.running for q in found)
    assert output.stdout == "orders: 500\npaid: 166 big: 252\n"

    sent = messages_requests(emulator)
    assert len(sent) == 3  # the question, then one continuation per stop of the cell
    for request in sent:
        sql_tool = next(t for t in request.json["tools"] if t["name"] == "sql")
        assert sql_tool["allowed_callers"] == [settings.tool_version]
        assert "- orders (table, " in request.json["system"] and "amount" in request.json["system"]
    first_container = run.container_id
    assert [r.json.get("container") for r in sent] == [None, first_container, first_container]
    answered = [r.json["messages"][-1]["content"] for r in sent[1:]]
    assert [len(blocks) for blocks in answered] == [1, 2]
    result = json.loads(answered[0][0]["content"])
    assert result["rows"] == [[500]] and result["columns"][0]["name"] == "n" and result["truncated"] is False

    # what the queue kept to run the turn: the source by name, and who asked; no URL
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(turns.c.request).where(turns.c.run_id == run_id)).scalar_one()
    request = json.loads(kept)
    assert request["sources"] == ["shop"] and request["asker"]["owner"] == store.owner
    url = db.source.url.render_as_string(hide_password=False)
    assert url not in kept and str(db.source.url.database) not in kept


def write_attempts(db: Db) -> list[str]:
    marker = db.marker_dir / "copied"
    attempts = ["DROP TABLE orders", "INSERT INTO orders (id, customer) VALUES (9999, 'x')"]
    attempts += ["UPDATE orders SET amount = 0", f"COPY orders TO PROGRAM 'touch {marker}'"]
    if db.engine == "postgresql":
        attempts.append("WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone")
    return attempts


def test_writes_from_the_code_come_back_as_errors_it_can_read_and_change_nothing(
    db: Db, emulator, settings, store, monkeypatch
) -> None:
    declare_in_environ(monkeypatch, "shop", db.source)
    before = db.checksum()
    attempts = write_attempts(db)
    cell = (
        f"for attempt in {attempts!r}:\n"
        '    result = await sql(source="shop", query=attempt)\n'
        '    print(result["error"]["kind"], "|", result["error"]["message"][:60])\n'
        'print("still", (await sql(source="shop", query="SELECT count(*) FROM orders"))["rows"][0][0])\n'
    )
    run_id = ask(store, settings, emulator, [Python(cell)])
    output = output_of(store, run_id)
    kinds = [line.split(" | ")[0] for line in output.stdout.splitlines()[:-1]]
    assert kinds[:4] == ["read_only"] * 4 and set(kinds) <= {"read_only", "sql"}, output.stdout
    assert output.stdout.splitlines()[-1] == "still 500" and output.return_code == 0
    found = queries_of(store, run_id)
    assert [q.error_kind for q in found[:4]] == ["read_only"] * 4 and found[-1].error_kind == ""
    assert not (db.marker_dir / "copied").exists()
    assert db.checksum() == before


def test_the_timeout_and_the_caps_reach_the_code(db: Db, emulator, settings, store, monkeypatch) -> None:
    declare_in_environ(monkeypatch, "shop", db.source, timeout_seconds=1, max_rows=50, max_mb=0.02)
    cell = (
        f"slow = await sql(source='shop', query={db.long_query!r})\n"
        "print('slow:', slow['error']['kind'], '|', slow['error']['hint'])\n"
        f"many = await sql(source='shop', query={db.series(1000)!r})\n"
        "print('many:', many['row_count'], many['truncated'], '|', many['note'])\n"
        f"wide = await sql(source='shop', query={db.series(40, pad=2000)!r})\n"
        "print('wide:', wide['row_count'], wide['truncated'], '|', wide['note'])\n"
    )
    started = time.monotonic()
    run_id = ask(store, settings, emulator, [Python(cell)])
    assert time.monotonic() - started < 60
    lines = output_of(store, run_id).stdout.splitlines()
    assert lines[0].startswith("slow: timeout | ") and "LIMIT" in lines[0]
    assert lines[1].startswith("many: 50 True | Cut at the row cap")
    wide_rows = int(lines[2].split()[1])
    assert 0 < wide_rows < 40 and "byte cap" in lines[2]
    slow, many, wide = queries_of(store, run_id)
    assert slow.error_kind == "timeout" and many.truncated and many.row_count == 50 and wide.row_count == wide_rows


def test_stop_during_a_query_cancels_it_and_ends_the_turn_promptly(
    db: Db, emulator, settings, store, monkeypatch
) -> None:
    declare_in_environ(monkeypatch, "shop", db.source, timeout_seconds=300)
    emulator.queue_script([Python(f"r = await sql(source='shop', query={db.long_query!r})\nprint(r)"), Text("x")])
    run = jobs.new_run(store, settings, "A slow one", [], sources=["shop"])
    wait_for(lambda: any(q.running for q in queries_of(store, run.id)), 30, "the query to start")
    time.sleep(0.5)  # well inside the query
    pressed = time.monotonic()
    assert jobs.stop(run.id, store)
    assert jobs.wait(run.id, 15)
    assert time.monotonic() - pressed < 10
    assert store.run(run.id).status == "stopped"
    (query,) = queries_of(store, run.id)
    assert query.error_kind == "cancelled" and not query.running
    if db.engine == "postgresql":  # the server is no longer running it
        admin = db.source.url.set(drivername="postgresql").render_as_string(hide_password=False)
        still = (
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid() AND state = 'active'"
        )
        with psycopg.connect(admin) as conn:
            assert conn.execute(still).fetchone() == (0,)
    # the run goes on: a follow-up in the same container starts afresh
    emulator.queue_script([Python("print((await sql(source='shop', query='SELECT 1 AS one'))['rows'])")])
    jobs.start_turn(store, settings, run.id, "And now?")
    assert jobs.wait(run.id, 60)
    assert store.run(run.id).status == "done"
    assert output_of(store, run.id, 1).stdout == "[[1]]\n"


# rows full of double quotes, which JSON escapes twice on their way (in the result, then in the request)
QUOTES = (
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2000) "
    "SELECT n, replace(hex(zeroblob(25)), '00', '\"\"') AS pad FROM r"
)


def test_results_are_cut_to_what_the_next_request_can_carry(tmp_path, emulator, settings, store, monkeypatch) -> None:
    db = make_sqlite(tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    monkeypatch.setattr(queries, "MAX_REQUEST_BYTES", queries.REQUEST_MARGIN + 60_000)
    cell = (
        f"first = await sql(source='shop', query={QUOTES!r})\n"
        "print('first:', first['row_count'], first['truncated'], '|', first.get('note'))\n"
        "second = await sql(source='shop', query='SELECT * FROM orders')\n"
        "print('second:', second.get('error', {}).get('kind'), second.get('row_count'))\n"
    )
    run_id = ask(store, settings, emulator, [Python(cell)])
    lines = output_of(store, run_id).stdout.splitlines()
    rows = int(lines[0].split()[1])
    assert 0 < rows < 2000 and "bytes; more rows exist" in lines[0]
    assert lines[1] == "second: too_large None"  # the first result filled the request: nothing more fits
    first, second = queries_of(store, run_id)
    assert first.truncated and first.row_count == rows and second.error_kind == "too_large"
    # the room a request has, its JSON escaping included (a refusal's few hundred bytes go beyond: the margin)
    for request in messages_requests(emulator):
        assert len(request.body) <= queries.MAX_REQUEST_BYTES - queries.REQUEST_MARGIN + queries.MIN_RESULT_BYTES


def test_a_container_refused_while_the_code_waits_ends_the_turn_readably(
    tmp_path, emulator, settings, store, monkeypatch
) -> None:
    db = make_sqlite(tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    emulator.inject(Fault("refuse_container"))  # the first request that carries the container: the continuation
    run_id = ask(store, settings, emulator, [Python(SEVERAL)])
    run = store.run(run_id)
    assert run.status == "error" and run.container_id == ""
    error = next(i for i in items_of(store, run_id) if isinstance(i, RunError))
    assert error.title == "Container no longer usable" and "waiting for the results of its SQL queries" in error.message
    assert "Ask the question again" in error.hint
    assert len(queries_of(store, run_id)) == 1  # the first query ran; its result never reached the code


def test_sources_need_a_tool_version_whose_code_can_call_tools(tmp_path, settings, store, monkeypatch) -> None:
    db = make_sqlite(tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    old = dataclasses.replace(settings, tool_version="code_execution_20250825")
    with pytest.raises(AppError, match="code_execution_20260120 or later"):
        jobs.new_run(store, old, "How many orders?", [], sources=["shop"])
    assert store.runs() == []


def test_a_worker_on_a_shared_database_runs_the_queries_as_the_asker(
    postgres: Postgres, tmp_path, emulator, settings, monkeypatch
) -> None:
    from lib.runs.worker import Worker

    db = make_postgres(postgres, tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    shared = Store(tmp_path / "app", url=postgres.create(f"runs_{int(time.time() * 1000) % 10**9}"))
    assert not shared.embedded
    emulator.queue_script([Python(SEVERAL)])
    run = jobs.new_run(shared, settings, "How many orders?", [], sources=["shop"])
    assert shared.turn_state(run.id).status == "queued"  # only queued here: a worker takes it
    worker = Worker(shared.as_owner(shared.owner, admin=True), settings, capacity=1)
    thread = threading.Thread(target=worker.serve, daemon=True)
    thread.start()
    try:
        wait_for(lambda: shared.run(run.id).status == "done", 90, "the worker to finish the run")
    finally:
        worker.shut_down()
        worker.shut_down()
        thread.join(30)
    output = output_of(shared, run.id)
    assert output.stdout == "orders: 500\npaid: 166 big: 252\n"
    assert len(queries_of(shared, run.id)) == 3
    with shared.engine.connect() as conn:
        kept = conn.execute(sa.select(turns.c.request).where(turns.c.run_id == run.id)).scalar_one()
    assert json.loads(kept)["sources"] == ["shop"] and "pw-Zq81-secret" not in kept and "127.0.0.1" not in kept
