"""The exact profile of a large delimited file read by its first look's plan in a worker that loads DuckDB alone:
the same figures, types and notes as the full reader's, and the full reader's verdict where that pass cannot
decide (a late line in another encoding, a ragged row, binary data)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.files import profile, scan
from lib.files.preview import Refused, TablePreview, first_look, inspect_path
from lib.files.tables import SCAN_MIN_BYTES

ROWS = 160_000
# Lines added at the end of the file, far beyond the first look's head: what each does to the exact pass.
ENDINGS = {
    "plain": b"",
    "late_text": b"160000,1.5,2024-03-01T10:00:00Z,2024-03-01 10:00:00,true,10:15:00,Oslo,x,A-17\n",
    "late_cp1252": b"160001,2.5,2024-03-01T10:00:00Z,2024-03-01 10:00:00,false,10:15:00,M\xfcnchen,x,5\n",
    "ragged": b"160002,2.5,2024-03-01T10:00:00Z,2024-03-01 10:00:00,false,10:15:00,Oslo,x,5,extra,fields\n",
    "nul": b"160003,2.5,2024-03-01T10:00:00Z,2024-03-01 10:00:00,false,10:15:00,Os\x00lo,x,5\n",
}

SCANNED = ("plain", "late_text")  # the rest the DuckDB pass leaves to the full reader


@pytest.fixture(scope="module")
def body() -> bytes:
    """Every kind of column the first block's types map to DuckDB's; one column empty in the head, filled later."""
    rng = np.random.default_rng(5)
    price = rng.normal(40, 9, ROWS).round(2).astype(object)
    price[rng.random(ROWS) < 0.04] = ""
    later = np.where(np.arange(ROWS) < ROWS // 2, "", "filled")
    frame = pd.DataFrame(
        {
            "id": np.arange(ROWS),
            "price": price,
            "stamped": (np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 10**7, ROWS)).astype(str),
            "local": (np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 10**7, ROWS)).astype(str),
            "flag": rng.random(ROWS) < 0.3,
            "at": [
                f"{h:02d}:{m:02d}:00" for h, m in zip(rng.integers(0, 24, ROWS), rng.integers(0, 60, ROWS), strict=True)
            ],
            "city": np.array(["Oslo", "Köln", "Zürich", "Lyon"])[rng.integers(0, 4, ROWS)],
            "later": later,
            "code": rng.integers(0, 90, ROWS),
        }
    )
    frame["stamped"] = frame["stamped"].str.replace(" ", "T") + "Z"
    frame["local"] = frame["local"].str.replace("T", " ")
    return frame.to_csv(index=False).encode()


def _file(tmp_path: Path, body: bytes, ending: str) -> Path:
    path = tmp_path / f"{ending}.csv"
    path.write_bytes(body + ENDINGS[ending])
    assert path.stat().st_size > SCAN_MIN_BYTES
    return path


def _verdict(read) -> TablePreview | str:  # type: ignore[no-untyped-def]
    try:
        return read()
    except Refused as refused:
        return f"{refused.reason} | {refused.hint}"


@pytest.mark.timeout(180)
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_planned_pass_in_the_duckdb_worker_gives_the_full_readers_figures(ending, body, tmp_path):
    path = _file(tmp_path, body, ending)
    look = first_look(path)
    assert isinstance(look, TablePreview) and look.plan is not None, "a large UTF-8 table gets a plan"
    assert [c.duck for c in look.plan.columns] == [
        "BIGINT", "DOUBLE", "TIMESTAMPTZ", "TIMESTAMP", "BOOLEAN", "TIME", "VARCHAR", "VARCHAR", "BIGINT",
    ]  # fmt: skip
    scanned = _verdict(lambda: profile.in_sandbox(look, path, path.name, "csv", 50, 120))
    full = _verdict(lambda: inspect_path(path, path.name, "csv"))
    if isinstance(full, str):
        assert scanned == full
        return
    assert isinstance(scanned, TablePreview)
    assert (scanned.rows, scanned.rows_exact, scanned.sampled) == (full.rows, True, 0)
    assert scanned.profile == full.profile
    assert scanned.quality == full.quality
    assert scanned.note == full.note and scanned.encoding == full.encoding
    if ending in SCANNED:
        assert scanned.plan == look.plan and scanned.head.equals(look.head), "the first look's, with exact figures"
    else:
        assert scanned.plan is None, "read again by the full reader"


def test_the_verdicts_differ_where_the_file_does(body, tmp_path):
    plain = inspect_path(_file(tmp_path, body, "plain"), "plain.csv", "csv")
    late = inspect_path(_file(tmp_path, body, "late_text"), "late_text.csv", "csv")
    assert isinstance(plain, TablePreview) and isinstance(late, TablePreview)
    assert dict(plain.dtypes)["code"] == "int64" and dict(late.dtypes)["code"] == "str"
    assert dict(plain.dtypes)["stamped"] == "datetime" and dict(plain.dtypes)["at"] == "time"
    assert isinstance(_verdict(lambda: inspect_path(_file(tmp_path, body, "nul"), "nul.csv", "csv")), str)
    mixed = inspect_path(_file(tmp_path, body, "late_cp1252"), "late_cp1252.csv", "csv")
    assert isinstance(mixed, TablePreview) and any("1252" in note for note in mixed.quality), mixed.quality


def test_the_scan_worker_loads_duckdb_alone(body, tmp_path):
    path = _file(tmp_path, body, "plain")
    look = first_look(path)
    assert isinstance(look, TablePreview)
    told: list[int] = []
    found = profile.in_sandbox(look, path, path.name, "csv", 50, 120, lambda done, total: told.append(done))
    assert found.rows == ROWS and told[-1] == path.stat().st_size
    pids = scan.scan_pool().worker_pids()
    assert pids, "the worker stays warm for the next file"
    maps = Path(f"/proc/{pids[0]}/maps").read_text()
    assert "duckdb" in maps
    assert "pandas" not in maps and "libarrow" not in maps, "no pandas or Arrow in the scan worker"


def test_a_plan_whose_types_are_not_the_scans_own_never_becomes_sql(body, tmp_path):
    path = _file(tmp_path, body, "plain")
    look = first_look(path)
    assert isinstance(look, TablePreview) and look.plan is not None
    bad = scan.Column("id", "BIGINT', 'c1': 'VARCHAR') --", "int64")
    with pytest.raises(ValueError, match="not a type the scan reads"):
        scan.statement(path, look.plan.dialect, [bad.duck])
    planned = replace(look.plan, columns=(bad, *look.plan.columns[1:]))
    assert scan.exact(path, path.name, "csv", planned) is None, "left to the full reader"
