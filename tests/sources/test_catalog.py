"""The catalog: tables and views, columns and types, row counts as the engine keeps them, bounded previews."""

from __future__ import annotations

import pytest

from lib.sources import catalog as catalog_module
from lib.sources import catalog_for, preview, prompt_text
from tests.support.sources import ORDERS, Db

pytestmark = pytest.mark.sources

EXPECTED_BASIS = {"postgresql": "estimate", "sqlite": "exact", "duckdb": "estimate"}


def test_tables_columns_types_and_row_counts(db: Db) -> None:
    cat = catalog_for(db.source)
    assert cat.error is None, cat.error
    assert cat.source.name == db.source.name and cat.source.dialect == db.engine
    orders = cat.table("orders")
    assert orders is not None and orders.kind == "table"
    assert [c.name for c in orders.columns] == ["id", "customer", "amount", "placed", "paid", "note"]
    types = {c.name: c.type.upper() for c in orders.columns}
    assert any(word in types["amount"] for word in ("NUMERIC", "DECIMAL"))
    assert "DATE" in types["placed"] and "INT" in types["id"]
    assert not next(c for c in orders.columns if c.name == "customer").nullable
    assert orders.row_count == ORDERS and orders.row_count_basis == EXPECTED_BASIS[db.engine]
    view = cat.table("big_orders")
    assert view is not None and view.kind == "view" and len(view.columns) == 6
    if db.engine == "postgresql":
        archived = cat.table("archive.old_orders")
        assert archived is not None and archived.row_count == 10
        assert cat.warnings and "superuser" in cat.warnings[0]  # the test reads as postgres
    text = prompt_text(cat)
    assert f"- orders (table, {orders.rows_text}): id " in text and "amount" in text
    assert db.source.description in text


def test_a_preview_is_the_first_rows_bounded(db: Db) -> None:
    orders = catalog_for(db.source).table("orders")
    assert orders is not None
    shown = preview(db.source, orders, rows=5)
    assert shown.ok and shown.row_count == 5
    assert shown.rows[0][:2] == [1, "customer 1"] and shown.rows[0][3] == "2024-01-02"
    assert [c.name for c in shown.columns][:3] == ["id", "customer", "amount"]
    assert "DATE" in shown.columns[3].type.upper()  # the catalog's type, also where results carry none (SQLite)
    assert preview(db.source, orders, rows=10_000).row_count == catalog_module.PREVIEW_LIMITS.max_rows


def test_the_catalog_is_cached_and_bounded(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    first = catalog_for(db.source)
    assert catalog_for(db.source) is first
    monkeypatch.setattr(catalog_module, "MAX_TABLES", 1)
    monkeypatch.setattr(catalog_module, "MAX_COLUMNS", 2)
    monkeypatch.setattr(catalog_module, "COUNT_UP_TO", 100)
    bounded = catalog_for(db.source, refresh=True)
    assert bounded is not first and len(bounded.tables) == 1 and bounded.tables_left_out >= 1
    assert len(bounded.tables[0].columns) == 2 and bounded.tables[0].columns_left_out == 4
    assert "more tables not listed" in prompt_text(bounded) and "and 4 more columns" in prompt_text(bounded)
    if db.engine == "sqlite":  # no statistics: counted, up to the bound
        assert bounded.tables[0].row_count_basis == "at least" and bounded.tables[0].rows_text == "over 100 rows"
