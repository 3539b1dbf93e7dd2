"""Snapshot to a file: a query result as Parquet that the upload path accepts, with the same columns and rows."""

from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.errors import AppError
from lib.files.uploads import Accepted, inspect_upload
from lib.sources import QueryColumn, QueryResult, run_query, to_parquet
from tests.support.sources import Db

pytestmark = pytest.mark.sources

QUERY = "SELECT id, customer, amount, placed, paid, note FROM orders WHERE id <= 40 ORDER BY id"


def test_a_snapshot_round_trips_through_parquet_and_the_upload_check(db: Db) -> None:
    result = run_query(db.source, QUERY)
    assert result.ok and result.row_count == 40
    snap = to_parquet(result, f"{db.source.name} orders")
    assert snap.name == f"{db.source.name}_orders.parquet" and snap.rows == 40 and not snap.truncated

    table = pq.read_table(io.BytesIO(snap.data))
    assert table.column_names == [c.name for c in result.columns]
    back = [list(row.values()) for row in table.to_pylist()]
    for got, sent in zip(back, result.rows, strict=True):
        assert got[0] == sent[0] and got[1] == sent[1] and got[5] == sent[5]
        assert float(got[2]) == pytest.approx(float(sent[2]))
        placed = got[3] if isinstance(got[3], str) else got[3].isoformat()
        assert placed == sent[3]
    assert table.schema.metadata[b"analyst.query"].decode() == QUERY
    if db.engine != "sqlite":  # SQLite returns dates as text and booleans as integers; the others keep their types
        assert table.schema.field("placed").type == pa.date32()
        assert table.schema.field("paid").type == pa.bool_()

    checked = inspect_upload(snap.name, snap.data, 200 * 1_000_000)
    assert isinstance(checked.verdict, Accepted), checked.verdict
    assert checked.verdict.name == snap.name and checked.verdict.kind == "parquet"
    assert checked.preview is not None and checked.preview.rows == 40 and checked.preview.columns == 6


def test_every_kind_of_value_keeps_its_type_in_the_file() -> None:
    columns = (
        QueryColumn("i", "bigint", "integer"),
        QueryColumn("big", "numeric", "number"),
        QueryColumn("t", "timestamptz", "timestamp"),
        QueryColumn("b", "bytea", "bytes"),
        QueryColumn("j", "jsonb", "json"),
        QueryColumn("i", "text", "text"),
    )
    rows = [
        [
            1,
            "12345678901234567890.12",
            "2024-05-01T12:30:00+00:00",
            base64.b64encode(b"\x00\x01").decode(),
            {"k": 1},
            "a",
        ],
        [None, 1.5, None, None, [1, 2], None],
    ]
    snap = to_parquet(QueryResult("pg", "SELECT …", columns=columns, rows=rows))
    table = pq.read_table(io.BytesIO(snap.data))
    assert table.column_names == ["i", "big", "t", "b", "j", "i_2"]
    first, second = table.to_pylist()
    assert first["big"] == Decimal("12345678901234567890.12") and second["big"] == Decimal("1.5")
    assert first["t"] == dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    assert first["b"] == b"\x00\x01" and first["j"] == '{"k": 1}' and second["j"] == "[1, 2]"


def test_a_failed_query_has_no_snapshot(db: Db) -> None:
    with pytest.raises(AppError, match="no rows to save"):
        to_parquet(run_query(db.source, "SELECT * FROM no_such_table"))
