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
from tests.support.model_outputs import deep_spec, seed_with_outputs
from tests.support.seed import BROKEN_SPEC, CHART, chart_spec, png_bytes, seed_chart_run


def _view(data_dir, **kw):
    rid = seed_chart_run(data_dir, **kw)
    return load_run_view(Store(data_dir), rid, Settings().prices)


def _displays(nb_json: str) -> list[dict]:
    nb = nbformat.reads(nb_json, as_version=4)
    nbformat.validate(nb)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "display_data"]


def test_notebook_carries_the_spec_as_vega_lite_with_the_png(data_dir):
    (out,) = _displays(export.notebook(Store(data_dir), _view(data_dir), data_dir))
    assert out["data"][charts.SPEC_MIME] == chart_spec()
    assert base64.b64decode(out["data"]["image/png"]) == png_bytes()
    assert out["data"]["text/plain"] == f"{CHART}.vl.json"


def test_notebook_with_a_broken_spec_keeps_only_the_png(data_dir):
    (out,) = _displays(export.notebook(Store(data_dir), _view(data_dir, spec_text=BROKEN_SPEC), data_dir))
    assert charts.SPEC_MIME not in out["data"] and base64.b64decode(out["data"]["image/png"]) == png_bytes()


def test_report_zip_has_the_spec_next_to_the_png(data_dir):
    view = _view(data_dir)
    zf = zipfile.ZipFile(io.BytesIO(export.report_zip(Store(data_dir), view, data_dir)))
    names = zf.namelist()
    png = next(n for n in names if n.endswith(f"_{CHART}.png"))
    spec = next(n for n in names if n.endswith(f"_{CHART}.vl.json"))
    assert png.startswith("files/") and spec.startswith("files/")
    assert json.loads(zf.read(spec)) == chart_spec() and zf.read(png) == png_bytes()
    report = zf.read("report.md").decode()
    assert f"![{CHART}.png]({png})" in report
    assert f"[{CHART}.vl.json]({spec}) (the chart as a Vega-Lite spec, interactive)" in report


def test_report_zip_entries_are_cleaned_and_unique(data_dir):
    store = Store(data_dir)
    rid = seed_chart_run(data_dir)
    hostile = "..\\..\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\report.bat"
    for n, name in enumerate((hostile, "report.bat", "sales.csv", "sales.csv")):
        (data_dir / "uploads").mkdir(exist_ok=True)
        (data_dir / "uploads" / f"u{n}").write_text(f"input {n}")
        store.add_file(FileRecord(f"file_in{n}", name, "text/csv", 7, f"h{n}", "csv", f"uploads/u{n}", 0.0))
    store.update_run(rid, file_ids=[f"file_in{n}" for n in range(4)])
    view = load_run_view(store, rid, Settings().prices)
    with zipfile.ZipFile(io.BytesIO(export.report_zip(store, view, data_dir))) as zf:
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

    nb = nbformat.reads(export.notebook(Store(data_dir), view, data_dir), as_version=4)
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
    assert (
        "The mean is 4.2.\n\n**Cell 1.1**\n\n```python\nprint(4.2)\n```\n\n```text\n4.2\n```\n\n```diff\n-a\n+b\n```"
        in report
    )
    assert "> Down.\n\n> A new container was started.\n\n> The API is overloaded." in report
    assert "lost.csv" not in report and "First the columns" not in report and "mystery_block_2027" not in report
    assert "Query on `demo`: 4 rows in 20 ms\n\n```sql\nSELECT region, sum(revenue)" in report


def test_a_run_with_a_spec_nested_20000_deep_still_exports(data_dir):
    files = [("deep.vl.json", "application/json", deep_spec()), ("deep.png", "image/png", png_bytes())]
    view = load_run_view(Store(data_dir), seed_with_outputs(data_dir, "Chart it", "Done.", files), Settings().prices)
    (out,) = _displays(export.notebook(Store(data_dir), view, data_dir))
    assert charts.SPEC_MIME not in out["data"] and base64.b64decode(out["data"]["image/png"]) == png_bytes()
    names = zipfile.ZipFile(io.BytesIO(export.report_zip(Store(data_dir), view, data_dir))).namelist()
    assert any(n.endswith("_deep.vl.json") for n in names) and "analysis.ipynb" in names


def test_the_notebook_gets_the_spec_without_embed_options_or_links(data_dir):
    spec = chart_spec()
    spec["usermeta"] = {"embedOptions": {"loader": {"baseURL": "https://attacker.example/"}}}
    spec["encoding"]["href"] = {"field": "region", "type": "nominal"}
    files = [("c.vl.json", "application/json", json.dumps(spec).encode()), ("c.png", "image/png", png_bytes())]
    view = load_run_view(Store(data_dir), seed_with_outputs(data_dir, "Chart it", "Done.", files), Settings().prices)
    (out,) = _displays(export.notebook(Store(data_dir), view, data_dir))
    drawn = out["data"][charts.SPEC_MIME]
    assert "usermeta" not in drawn and "href" not in drawn["encoding"] and drawn["mark"] == spec["mark"]


def test_the_code_is_parsed_for_its_imports_in_the_sandbox(data_dir, monkeypatch):
    from lib.runs import notebook

    def here(cells):
        raise AssertionError("the model's code was parsed in the server process")

    monkeypatch.setattr(notebook, "python_sources", here)
    nb = nbformat.reads(export.notebook(Store(data_dir), _view(data_dir), data_dir), as_version=4)
    assert nb.cells[2].source == "# The code imports only Python's standard library."


def test_exports_say_the_model_and_cost_of_a_real_run_and_demo_for_a_demo_run(data_dir):
    real = _view(data_dir)
    said = export.markdown(real).splitlines()[2]
    assert said.startswith("Model `claude-sonnet-4-6` · 10 input · 20 output tokens · 0 code executions · est. $")
    demo = _view(data_dir, demo=True)
    for text in (
        export.markdown(demo),
        nbformat.reads(export.notebook(Store(data_dir), demo, data_dir), as_version=4).cells[0].source,
    ):
        assert "Answered by the offline demo's scripted analyst (not Claude), no cost" in text
        assert "claude-sonnet" not in text and "$" not in text
