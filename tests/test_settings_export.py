"""Settings precedence and checks, and exporting a run as a notebook, a report zip and a gallery zip."""

from __future__ import annotations

import io
import zipfile

import nbformat
import pytest

from lib.runs import export, gallery
from lib.runs.view import load_run_view
from lib.settings import DEFAULT_MODEL, SettingsError, load_settings
from lib.storage.records import ArtifactFilter
from tests.support.runs import run_to_end, upload


def test_secrets_win_over_environment_and_defaults_apply(tmp_path):
    s = load_settings(
        {"ANTHROPIC_API_KEY": "from-secrets"},
        {"ANTHROPIC_API_KEY": "from-env", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},
    )
    assert s.api_key == "from-secrets" and s.key_source == "secrets.toml" and s.base_url == "http://127.0.0.1:9"
    assert "from-secrets" not in repr(s)
    env = load_settings({}, {"ANTHROPIC_API_KEY": "k", "ANALYST_DATA_DIR": str(tmp_path)})
    assert env.key_source == "environment" and env.data_dir == tmp_path and env.model == DEFAULT_MODEL
    none = load_settings({}, {})
    assert not none.has_key and none.tool_version == "code_execution_20260521"
    demo = none.for_demo("http://127.0.0.1:1")
    assert demo.demo and demo.has_key and demo.data_dir == none.data_dir / "demo"


def test_numbers_are_read_and_a_malformed_one_says_which_setting_to_fix():
    s = load_settings({"ANALYST_RUN_BUDGET_USD": "2.5"}, {"ANALYST_MAX_UPLOAD_MB": "50"})
    assert s.run_budget_usd == 2.5 and s.max_upload_bytes == 50 * 1024 * 1024
    assert load_settings({}, {}).run_budget_usd == 0.0
    for name, value, expected in [
        ("ANALYST_MAX_UPLOAD_MB", "lots", "a whole number"),
        ("ANALYST_MAX_TOKENS", "1.5", "a whole number"),
        ("ANALYST_RUN_BUDGET_USD", "-1", "a number"),
        ("ANALYST_RUN_BUDGET_USD", "nan", "a number"),
    ]:
        with pytest.raises(SettingsError) as caught:
            load_settings({}, {name: value})
        assert f"`{name}` is `{value}`, which is not {expected} of zero or more" in caught.value.message
        assert name in caught.value.hint


def test_run_exports_to_a_valid_notebook_and_a_report_zip(emulator, settings, store):
    file_id = upload(settings, store)
    run_id = run_to_end(store, settings, "First look please", [file_id])
    view = load_run_view(store, run_id, settings.prices)
    nb = nbformat.reads(export.notebook(store, view, settings.data_dir), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and "pandas" in code[0].source
    assert any(o.get("name") == "stdout" and "Rows" in o.get("text", "") for c in code for o in c.outputs)
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert any("First look please" in c.source for c in nb.cells if c.cell_type == "markdown")
    assert any("INPUT_FILES = ['sales.csv']" in c.source for c in code)  # named, not bundled
    zf = zipfile.ZipFile(io.BytesIO(export.report_zip(store, view, settings.data_dir)))
    names = zf.namelist()
    assert "report.md" in names and "analysis.ipynb" in names and "inputs/sales.csv" in names
    pngs = [n for n in names if n.endswith(".png")]
    assert pngs and zf.read(pngs[0]).startswith(b"\x89PNG")
    report = zf.read("report.md").decode()
    assert "![" in report and pngs[0] in report and "```python" in report


def test_gallery_zip_lineage_and_delete(emulator, settings, store):
    file_id = upload(settings, store)
    run_to_end(store, settings, "Plot it", [file_id])
    page = gallery.page_of(store, ArtifactFilter(), 1, 12)
    assert page.total >= 2 and page.pages == 1
    png = next(a for a in page.artifacts if a.mime_type == "image/png")
    info = gallery.lineage(store, png)
    assert info.question == "Plot it" and info.code is not None and "savefig" in info.code.code
    thumb = gallery.thumb_for(settings.data_dir, png)
    assert thumb is not None and thumb.exists()
    data = gallery.zip_bytes(store, settings.data_dir, page.artifacts + [png])
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert len(zf.namelist()) == page.total + 1 and len(set(zf.namelist())) == len(zf.namelist())
    card = next(c for c in page.cards if c.artifact.id == png.id)
    for member in card.members:  # a chart's PNG goes with its spec, as the gallery deletes them
        gallery.delete_artifact(store, settings.data_dir, member)
    assert not (settings.data_dir / png.path).exists()
    assert gallery.page_of(store, ArtifactFilter(), 1, 12).total == page.total - 1
