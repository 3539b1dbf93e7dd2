"""The demo source: the samples as SQLite tables in the data directory, built on first use, read-only after."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from lib.identity import local_user
from lib.settings import load_settings
from lib.sources import DEMO_NAME, Declared, catalog_for, run_query, sources_for
from lib.sources.demo import demo_path

pytestmark = pytest.mark.sources

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_the_demo_source_is_built_from_the_samples_on_first_use(tmp_path: Path) -> None:
    settings = load_settings({}, {"ANALYST_DATA_DIR": str(tmp_path / "data")})
    assert not demo_path(settings.data_dir).exists()
    (demo,) = sources_for(local_user(), Declared(), settings)
    assert demo.name == DEMO_NAME and demo.demo and demo.dialect == "sqlite"
    path = demo_path(settings.data_dir)
    assert path.is_file()
    cat = catalog_for(demo)
    expected = {
        "monthly_sales": 576,
        "subscriptions_churn": 1500,
        "sensor_readings": 2160,
        "stocks_monthly": 524,
    }
    assert {t.name: t.row_count for t in cat.tables} == expected
    assert all(t.row_count_basis == "estimate" for t in cat.tables)  # from sqlite_stat1, not counted
    sales = cat.table("monthly_sales")
    assert sales is not None and [(c.name, c.type) for c in sales.columns][:2] == [("date", "DATE"), ("region", "TEXT")]

    result = run_query(demo, "SELECT region, round(sum(revenue), 2) AS revenue FROM monthly_sales GROUP BY region")
    frame = pd.read_csv(SAMPLES / "monthly_sales.csv")
    assert dict(map(tuple, result.rows)) == frame.groupby("region")["revenue"].sum().round(2).to_dict()
    sensors = run_query(
        demo, "SELECT count(*), round(avg(temperature_c), 3) FROM sensor_readings WHERE sensor_id = 'S-01'"
    )
    readings = pd.read_csv(SAMPLES / "sensor_readings_semicolon.csv", sep=";", decimal=",")
    one = readings[readings.sensor_id == "S-01"]
    assert sensors.rows == [[len(one), round(one.temperature_c.mean(), 3)]]


def test_the_demo_file_is_read_only_and_built_once(tmp_path: Path) -> None:
    settings = load_settings({}, {"ANALYST_DATA_DIR": str(tmp_path / "data")})
    (demo,) = sources_for(local_user(), Declared(), settings)
    path = demo_path(settings.data_dir)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for sql in ("DELETE FROM monthly_sales", "WITH x AS (SELECT 1) DELETE FROM monthly_sales"):
        assert run_query(demo, sql).error.kind == "read_only"  # type: ignore[union-attr]
    sources_for(local_user(), Declared(), settings)  # listed again: not rebuilt
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert run_query(demo, "SELECT count(*) FROM monthly_sales").rows == [[576]]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no partial file left behind
