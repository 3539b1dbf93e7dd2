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
from tests.support.model_outputs import deep_spec, seed_run
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


def test_a_run_with_a_spec_nested_20000_deep_still_exports(data_dir):
    files = [("deep.vl.json", "application/json", deep_spec()), ("deep.png", "image/png", png_bytes())]
    view = load_run_view(Store(data_dir), seed_run(data_dir, "Chart it", "Done.", files), Settings().prices)
    (out,) = _displays(export.notebook(view, data_dir, []))
    assert charts.SPEC_MIME not in out["data"] and base64.b64decode(out["data"]["image/png"]) == png_bytes()
    names = zipfile.ZipFile(io.BytesIO(export.report_zip(view, data_dir, []))).namelist()
    assert any(n.endswith("_deep.vl.json") for n in names) and "analysis.ipynb" in names


def test_the_notebook_gets_the_spec_without_embed_options_or_links(data_dir):
    spec = chart_spec()
    spec["usermeta"] = {"embedOptions": {"loader": {"baseURL": "https://attacker.example/"}}}
    spec["encoding"]["href"] = {"field": "region", "type": "nominal"}
    files = [("c.vl.json", "application/json", json.dumps(spec).encode()), ("c.png", "image/png", png_bytes())]
    view = load_run_view(Store(data_dir), seed_run(data_dir, "Chart it", "Done.", files), Settings().prices)
    (out,) = _displays(export.notebook(view, data_dir, []))
    drawn = out["data"][charts.SPEC_MIME]
    assert "usermeta" not in drawn and "href" not in drawn["encoding"] and drawn["mark"] == spec["mark"]


def test_the_code_is_parsed_for_its_imports_in_the_sandbox(data_dir, monkeypatch):
    from lib.runs import notebook

    def here(cells):
        raise AssertionError("the model's code was parsed in the server process")

    monkeypatch.setattr(notebook, "python_sources", here)
    nb = nbformat.reads(export.notebook(_view(data_dir), data_dir, []), as_version=4)
    assert nb.cells[2].source == "# The code imports only Python's standard library."
