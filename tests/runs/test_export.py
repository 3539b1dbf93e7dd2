"""Exports of a run with a Vega-Lite chart: the notebook shows it interactively, the zip keeps the spec."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import nbformat

from lib.files import charts
from lib.runs import export
from lib.runs.view import load_run_view
from lib.settings import Settings
from lib.storage.records import FileRecord
from lib.storage.store import Store
from tests.support.items import one_of_each
from tests.support.seed import BROKEN_SPEC, CHART, chart_spec, png_bytes, seed_chart_run


def _view(data_dir, **kw):
    rid = seed_chart_run(data_dir, **kw)
    return load_run_view(Store(data_dir), rid, Settings().prices)


def _displays(nb_json: str) -> list[dict]:
    nb = nbformat.reads(nb_json, as_version=4)
    nbformat.validate(nb)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "display_data"]


def test_notebook_carries_the_spec_as_vega_lite_with_the_png(data_dir):
    (out,) = _displays(export.notebook(_view(data_dir), data_dir, []))
    assert out["data"][charts.SPEC_MIME] == chart_spec()
    assert base64.b64decode(out["data"]["image/png"]) == png_bytes()
    assert out["data"]["text/plain"] == f"{CHART}.vl.json"


def test_notebook_with_a_broken_spec_keeps_only_the_png(data_dir):
    (out,) = _displays(export.notebook(_view(data_dir, spec_text=BROKEN_SPEC), data_dir, []))
    assert charts.SPEC_MIME not in out["data"] and base64.b64decode(out["data"]["image/png"]) == png_bytes()


def test_report_zip_has_the_spec_next_to_the_png(data_dir):
    view = _view(data_dir)
    zf = zipfile.ZipFile(io.BytesIO(export.report_zip(view, data_dir, [])))
    names = zf.namelist()
    png = next(n for n in names if n.endswith(f"_{CHART}.png"))
    spec = next(n for n in names if n.endswith(f"_{CHART}.vl.json"))
    assert png.startswith("files/") and spec.startswith("files/")
    assert json.loads(zf.read(spec)) == chart_spec() and zf.read(png) == png_bytes()
    report = zf.read("report.md").decode()
    assert f"![{CHART}.png]({png})" in report
    assert f"[{CHART}.vl.json]({spec}) (the chart as a Vega-Lite spec, interactive)" in report


def test_report_zip_entries_are_cleaned_and_unique(data_dir):
    view = _view(data_dir)
    hostile = "..\\..\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\report.bat"
    records = []
    for n, name in enumerate((hostile, "report.bat", "sales.csv", "sales.csv")):
        (data_dir / "uploads").mkdir(exist_ok=True)
        (data_dir / "uploads" / f"u{n}").write_text(f"input {n}")
        records.append(FileRecord(f"file_in{n}", name, "text/csv", 7, f"h{n}", "csv", f"uploads/u{n}", 0.0))
    with zipfile.ZipFile(io.BytesIO(export.report_zip(view, data_dir, records))) as zf:
        entries = zf.namelist()
        inputs = [e for e in entries if e.startswith("inputs/")]
        assert inputs == ["inputs/report.bat", "inputs/report-2.bat", "inputs/sales.csv", "inputs/sales-2.csv"]
        assert [zf.read(e).decode() for e in inputs] == [f"input {n}" for n in range(4)]
        assert len(set(entries)) == len(entries)
        assert all("\\" not in e and ".." not in e.split("/") and not e.startswith("/") for e in entries)


def test_every_item_type_goes_to_the_notebook_and_the_report(data_dir):
    store = Store(data_dir)
    run = store.create_run("Every item", "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(run.id, "Every item", [{"type": "text", "text": "Every item"}])
    for seq, item in enumerate(one_of_each()):
        store.put_item(run.id, idx, seq, item)
    store.update_turn(run.id, idx, status="done")
    view = load_run_view(store, run.id, Settings().prices)

    nb = nbformat.reads(export.notebook(view, data_dir, []), as_version=4)
    nbformat.validate(nb)
    code = next(c for c in nb.cells if c.cell_type == "code" and "print(4.2)" in c.source)
    assert [o.get("text") for o in code.outputs] == ["4.2\n"]
    quoted = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("> ")]
    assert quoted == [
        "> Tool error `unavailable`. Retry.",
        "> A new container was started.",
        "> Overloaded: The API is overloaded.",
    ]
    assert not any("First the columns" in c.source or "mystery_block_2027" in c.source for c in nb.cells)

    report = export.markdown(view)
    assert "The mean is 4.2.\n\n```python\nprint(4.2)\n```\n\n```text\n4.2\n```\n\n```diff\n-a\n+b\n```" in report
    assert "> Down.\n\n> A new container was started.\n\n> The API is overloaded." in report
    assert "lost.csv" not in report and "First the columns" not in report and "mystery_block_2027" not in report
    assert "Query on `demo`: 4 rows in 20 ms\n\n```sql\nSELECT region, sum(revenue)" in report
