"""Tests of lib.files.samples and the files in samples/."""

from __future__ import annotations

from lib.files.preview import TablePreview, inspect_path
from lib.files.samples import REPO_ROOT, list_samples
from lib.files.uploads import Accepted, check_upload, inspect_upload


def test_all_samples_are_listed_with_text():
    samples = list_samples()
    assert [s.name for s in samples] == [
        "monthly_sales.csv",
        "subscriptions_churn.csv",
        "sensor_readings_semicolon.csv",
        "stocks_monthly.csv",
    ]
    for sample in samples:
        assert sample.path == REPO_ROOT / "samples" / sample.name
        assert sample.description and sample.suggested_question.endswith((".", "?"))


def test_each_sample_is_small_parses_and_passes_upload_checks():
    for sample in list_samples():
        data = sample.path.read_bytes()
        assert len(data) < 200_000
        preview = inspect_path(sample.path, sample.name, "csv")
        assert isinstance(preview, TablePreview) and preview.rows > 100 and preview.columns >= 5
        assert isinstance(check_upload(sample.name, data, 10_000_000), Accepted)


def test_semicolon_sample_reads_numbers_and_gaps():
    sample = next(s for s in list_samples() if s.name == "sensor_readings_semicolon.csv")
    preview = inspect_upload(sample.name, sample.path.read_bytes(), 10_000_000).preview
    assert preview.delimiter == ";"
    assert (preview.rows, preview.columns) == (2160, 5)
    assert dict(preview.dtypes)["temperature_c"] == "float64"
    assert dict(preview.missing)["temperature_c"] * preview.rows == 12


def test_stocks_sample_skips_its_source_comment():
    sample = next(s for s in list_samples() if s.name == "stocks_monthly.csv")
    preview = inspect_path(sample.path, sample.name, "csv")
    assert isinstance(preview, TablePreview) and list(preview.head.columns[:3]) == ["Date", "IBM", "AAPL"]


def test_missing_files_are_not_listed(tmp_path):
    (tmp_path / "monthly_sales.csv").write_text("date,units\n2024-01-01,3\n")
    assert [s.name for s in list_samples(tmp_path)] == ["monthly_sales.csv"]
