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


def test_every_item_type_goes_to_the_notebook_and_the_report(data_dir):
    store = Store(data_dir)
    run = store.create_run("Every item", "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.start_turn(run.id, "Every item", [{"type": "text", "text": "Every item"}])
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
