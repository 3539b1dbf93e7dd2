"""The notebook of a run on a SQL source runs in Jupyter where the source's variable holds its URL: its `sql()`
asks the database again, and the cells print what the run printed; the notebook itself holds no URL."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from lib.runs import export, jobs
from lib.runs.notebook import source_variable
from lib.runs.view import load_run_view
from lib.sources import DEMO_NAME
from lib.sources.demo import demo_path
from lib.transcript import GeneratedFile, Output

pytestmark = pytest.mark.sources

QUESTION = "Which region had the most revenue last quarter?"


def _execute(folder: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(folder / "analysis.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def test_the_notebook_queries_the_source_named_by_its_variable(emulator, settings, store, tmp_path, monkeypatch):
    run = jobs.new_run(store, settings, QUESTION, [], sources=[DEMO_NAME])
    assert jobs.wait(run.id, 90)
    view = load_run_view(store, run.id, settings.prices)
    recorded = next(i for t in view.turns for i in t.items if isinstance(i, Output))
    assert "Top region: " in recorded.stdout
    assert any(isinstance(i, GeneratedFile) and i.filename == "revenue_by_region.png" for i in view.turns[0].items)

    folder = tmp_path / "unzipped"
    folder.mkdir()
    zipfile.ZipFile(io.BytesIO(export.report_zip(view, settings.data_dir, []))).extractall(folder)
    text = (folder / "analysis.ipynb").read_text()
    database = str(demo_path(settings.data_dir))
    assert source_variable(DEMO_NAME) == "ANALYST_SOURCE_DEMO_URL" and "ANALYST_SOURCE_DEMO_URL" in text
    assert database not in text and "sqlite://" not in text
    assert "await sql(source=SOURCE" in text and "%pip install" in text and "sqlalchemy" in text

    # without the variable the cell that queries says what to set
    monkeypatch.delenv("ANALYST_SOURCE_DEMO_URL", raising=False)
    with pytest.raises(CellExecutionError, match="Set ANALYST_SOURCE_DEMO_URL to the SQLAlchemy URL"):
        _execute(folder)

    monkeypatch.setenv("ANALYST_SOURCE_DEMO_URL", f"sqlite:///{database}")
    rerun = _execute(folder)
    cells = [c for c in rerun.cells if c.cell_type == "code" and "await sql(" in c.source and "SOURCE =" in c.source]
    assert len(cells) == 1
    assert _stdout(cells[0]) == recorded.stdout
    assert (folder / "work" / "outputs" / "revenue_by_region.png").is_file()
