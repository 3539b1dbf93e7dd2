"""SQL sources on the pages: the Data page lists them with tables, columns, row counts and first rows; Analyze
picks them, says when code cannot call tools and snapshots a query to a file instead; a replay re-asks the
source, and Compare shows what changed in its data."""

from __future__ import annotations

import sqlite3

import pytest

from lib.runs import jobs
from lib.sources import dispose_all
from tests.support.apptest import ANALYZE, page_text, run
from tests.support.sources import declare_in_environ, make_sqlite

pytestmark = pytest.mark.sources

DATA = "pages/6_Data.py"
COMPARE = "pages/5_Compare.py"


@pytest.fixture
def shop(tmp_path, monkeypatch):
    """A SQLite `orders` database declared as the source `shop`, and one declaration the app cannot use."""
    db = make_sqlite(tmp_path)
    declare_in_environ(monkeypatch, "shop", db.source)
    monkeypatch.setenv("ANALYST_SOURCE_BROKEN_URL", "nosuchdb://reader:hunter2@db/x")
    yield db
    dispose_all()


def test_the_data_page_lists_each_source_with_its_tables_columns_and_first_rows(app, shop) -> None:
    app.switch_page(DATA)
    run(app)
    assert [e.label for e in app.expander][:2] == ["demo · sqlite · 4 tables", "shop · sqlite · 2 tables"]
    said = page_text(app)
    assert "**orders** · table · 500 rows" in said and "**big_orders** · view · rows unknown" in said
    assert "**monthly_sales** · table · about 576 rows" in said
    # the admin (the single user) is told which declaration was left out, without its password
    assert "Source `broken`, key `url`" in said and "hunter2" not in said
    columns = next(d.value for d in app.dataframe if "customer" in list(d.value["column"]))
    assert list(columns["type"]) == ["INTEGER", "TEXT", "NUMERIC", "DATE", "BOOLEAN", "TEXT"]

    app.toggle(key="data_preview_shop_orders").set_value(True)
    run(app)
    rows = next(d.value for d in app.dataframe if "amount" in d.value.columns)
    assert len(rows) == 20 and list(rows["id"][:3]) == [1, 2, 3]
    assert any("The first 20 rows" in c.value for c in app.caption)


def test_where_code_cannot_call_tools_the_page_says_so_and_snapshots_a_query_to_a_file(app, shop) -> None:
    app.switch_page(ANALYZE)
    run(app)
    app.multiselect(key="analyze_sources").set_value(["shop"])
    app.text_area(key="analyze_question").input("How many orders are paid?")
    run(app)
    assert not app.warning and not app.button(key="analyze_run").disabled

    app.selectbox(key="analyze_model").set_value("claude-haiku-4-5")  # its code cannot call tools
    run(app)
    assert "This model cannot call tools from code" in app.warning[0].value
    app.selectbox(key="analyze_model").set_value("claude-opus-4-8")
    app.selectbox(key="analyze_tool").set_value("code_execution_20250825")
    run(app)
    assert "`code_execution_20250825` cannot call tools from code" in app.warning[0].value
    assert "Snapshot" in app.button(key="analyze_snapshot").label and app.button(key="analyze_run").disabled

    app.text_area(key="analyze_snapshot_sql").input("SELECT customer, count(*) AS orders FROM orders GROUP BY customer")
    app.button(key="analyze_snapshot").click()
    run(app)
    assert "Saved 17 rows as **shop_query.parquet** in your library" in app.success[0].value
    picked = app.multiselect(key="analyze_files").value
    assert len(picked) == 1 and picked[0].startswith("file_")
    app.text_area(key="analyze_snapshot_sql").input("DROP TABLE orders")
    app.button(key="analyze_snapshot").click()
    run(app)
    assert "**Query failed.** This source is read-only" in app.error[0].value
    assert not any("Saved" in s.value for s in app.success)
    # the file is an ordinary file of the library: analysing it needs no tool calls from code
    app.multiselect(key="analyze_sources").set_value([])
    run(app)
    assert not app.button(key="analyze_run").disabled


def test_a_replay_asks_the_source_again_and_compare_shows_what_changed(app, shop, settings, store) -> None:
    original = jobs.new_run(store, settings, "How many orders are there?", [], sources=["shop"])
    assert jobs.wait(original.id, 60)
    with sqlite3.connect(shop.source.url.database) as conn:
        conn.executemany(
            "INSERT INTO orders (id, customer, amount, placed, paid) VALUES (?, 'new', 900, '2025-01-01', 1)",
            [(1000 + i,) for i in range(20)],
        )
    conn.close()
    replay = jobs.start_replay(store, settings, original.id, {})
    assert jobs.wait(replay.id, 60)
    assert store.run(replay.id).sources == ["shop"]

    app.query_params["b"] = replay.id
    app.switch_page(COMPARE)
    run(app)
    table = app.table[0].value
    changed = table[["Original", "Replay", "Change"]].values.tolist()
    assert ["500", "520", "+20"] in changed and ["252", "272", "+20"] in changed
