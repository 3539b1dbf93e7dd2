"""Files page: two files through the real uploader, their previews, upload, the library table, delete."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import wait_for_app_run
from tests.support.pages import main, open_app, sidebar_link

pytestmark = pytest.mark.browser


@pytest.fixture
def data_files(tmp_path: Path) -> tuple[Path, Path]:
    """A 40 x 4 CSV and a 25 x 3 XLSX, made here."""
    rng = np.random.default_rng(7)
    csv = tmp_path / "regional_sales.csv"
    pd.DataFrame(
        {
            "month": pd.date_range("2024-01-01", periods=40, freq="MS").strftime("%Y-%m-%d"),
            "region": (["North", "South", "East", "West"] * 10),
            "units": rng.integers(50, 500, 40),
            "revenue": rng.normal(10_000, 2_000, 40).round(2),
        }
    ).to_csv(csv, index=False)
    xlsx = tmp_path / "store_staff.xlsx"
    pd.DataFrame(
        {
            "store": [f"S{i:02d}" for i in range(25)],
            "staff": rng.integers(3, 30, 25),
            "rating": rng.uniform(2.5, 5.0, 25).round(1),
        }
    ).to_excel(xlsx, index=False, sheet_name="Stores")
    return csv, xlsx


def library_names(page: Page) -> list[str]:
    """File names in the Library multiselect's options (the table itself is drawn on a canvas)."""
    return page.get_by_test_id("stDataFrame").first.get_by_role("gridcell").all_inner_texts()


def test_upload_preview_library_delete(page: Page, fast_app, data_files, shot) -> None:
    csv, xlsx = data_files
    open_app(page, fast_app)
    sidebar_link(page, "Files")
    area = main(page)
    expect(area.get_by_role("heading", name="Files")).to_be_visible()
    expect(area.get_by_text("No files yet.")).to_be_visible()

    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(csv), str(xlsx)])
    wait_for_app_run(page)
    expect(page.get_by_test_id("stFileChip")).to_have_count(2)
    # one preview per file, each with row/column metrics
    for name, rows, cols in ((csv.name, "40", "4"), (xlsx.name, "25", "3")):
        panel = page.get_by_test_id("stExpander").filter(has_text=name).first
        expect(panel).to_be_visible()
        panel.locator("summary").first.click()
        metrics = panel.get_by_test_id("stMetric")
        expect(metrics.filter(has_text="Rows")).to_contain_text(rows)
        expect(metrics.filter(has_text="Columns")).to_contain_text(cols)
    expect(page.get_by_text("Sheets: Stores")).to_be_visible()
    shot("files_preview")

    area.get_by_role("button", name="Upload 2 files to the Files API").click()
    wait_for_app_run(page)
    expect(area.get_by_text(f"{csv.name} uploaded")).to_be_visible()
    expect(area.get_by_text(f"{xlsx.name} uploaded")).to_be_visible()
    expect(page.get_by_test_id("stFileChip")).to_have_count(0)  # the uploader is cleared
    table = page.get_by_test_id("stDataFrame")
    expect(table).to_have_count(1)
    expect(table).to_contain_text(csv.name)
    expect(table).to_contain_text(xlsx.name)
    shot("files_library")

    # both new files are selected; keep only the CSV selected, confirm, delete
    select = page.get_by_test_id("stMultiSelect").filter(has_text="Select files")
    select.get_by_role("button", name=re.compile(rf"Remove {re.escape(xlsx.name)}")).click()
    wait_for_app_run(page)
    confirm = area.get_by_text("Confirm deleting 1")
    expect(confirm).to_be_visible()
    delete = area.get_by_role("button", name="Delete selected")
    expect(delete).to_be_disabled()
    confirm.click()
    wait_for_app_run(page)
    expect(delete).to_be_enabled()
    delete.click()
    wait_for_app_run(page)
    expect(table).to_contain_text(xlsx.name)
    expect(table).not_to_contain_text(csv.name)
    expect(area.get_by_text("Deleted 1 file.")).to_be_visible()
    # the confirmation does not carry over to the next deletion
    expect(area.get_by_role("checkbox", name=re.compile("Confirm deleting"))).not_to_be_checked()
    assert fast_app.emulator is not None
    assert [f.filename for f in fast_app.emulator.files.values()] == [xlsx.name]
    shot("files_after_delete")
