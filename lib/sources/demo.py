"""The demo source: the sample datasets as tables of a SQLite file, built in the data directory on first use."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from lib.settings import REPO_ROOT
from lib.sources.config import Allow, SourceConfig

DEMO_NAME = "demo"
DEMO_FILE = "sources/demo-1.sqlite3"  # the number changes when the tables do, so an old file is not reused
SAMPLES = REPO_ROOT / "samples"
DESCRIPTION = (
    "The app's sample datasets as tables: monthly sales by region and product, streaming subscriptions and "
    "churn, hourly sensor readings, and monthly stock prices."
)
# table: (sample file, read_csv options, {column: SQL type} for dates and times, stored as ISO text)
TABLES: dict[str, tuple[str, dict, dict[str, str]]] = {
    "monthly_sales": ("monthly_sales.csv", {}, {"date": "DATE"}),
    "subscriptions_churn": ("subscriptions_churn.csv", {}, {"signup_date": "DATE"}),
    "sensor_readings": ("sensor_readings_semicolon.csv", {"sep": ";", "decimal": ","}, {"timestamp": "TIMESTAMP"}),
    "stocks_monthly": ("stocks_monthly.csv", {"comment": "#"}, {"date": "DATE"}),
}
ISO = {"DATE": "%Y-%m-%d", "TIMESTAMP": "%Y-%m-%d %H:%M:%S"}
_lock = threading.Lock()


def demo_path(data_dir: Path) -> Path:
    """Where the demo database lives for a data directory."""
    return Path(data_dir) / DEMO_FILE


def demo_source(data_dir: Path) -> SourceConfig:
    """The demo source, building its file first if it is not there yet."""
    path = demo_path(data_dir)
    if not path.is_file():
        build(path)
    return SourceConfig(
        name=DEMO_NAME,
        url=sa.engine.URL.create("sqlite", database=str(path)),
        description=DESCRIPTION,
        allow=Allow(signed_in=True),
        demo=True,
    )


def build(path: Path, samples: Path = SAMPLES) -> None:
    """Write the demo database once (atomically, so a reader never sees half of it), with statistics."""
    with _lock:
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        try:
            with sqlite3.connect(partial) as conn:
                for table, (file, options, dates) in TABLES.items():
                    frame = _frame(samples / file, options, dates)
                    types = {c: dates.get(c) or _sql_type(frame[c]) for c in frame.columns}
                    frame.to_sql(table, conn, index=False, dtype=types)
                conn.execute("ANALYZE")  # sqlite_stat1: row counts the catalog reads without counting
            conn.close()
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


def _frame(file: Path, options: dict, dates: dict[str, str]) -> pd.DataFrame:
    frame = pd.read_csv(file, **options)
    frame.columns = [re.sub(r"[^a-z0-9_]", "", str(c).lower()) for c in frame.columns]
    for column, kind in dates.items():
        frame[column] = pd.to_datetime(frame[column]).dt.strftime(ISO[kind])
    return frame


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        return "INTEGER"
    if pd.api.types.is_float_dtype(series):
        return "REAL"
    return "TEXT"
