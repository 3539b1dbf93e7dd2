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


def test_exports_say_the_model_and_cost_of_a_real_run_and_demo_for_a_demo_run(data_dir):
    real = _view(data_dir)
    said = export.markdown(real).splitlines()[2]
    assert said.startswith("Model `claude-sonnet-4-6` · 10 input · 20 output tokens · 0 code executions · est. $")
    demo = _view(data_dir, demo=True)
    for text in (
        export.markdown(demo),
        nbformat.reads(export.notebook(demo, data_dir, []), as_version=4).cells[0].source,
    ):
        assert "Answered by the offline demo's scripted analyst (not Claude), no cost" in text
        assert "claude-sonnet" not in text and "$" not in text
