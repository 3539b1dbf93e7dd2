"""The exported notebook runs locally, unedited: for every sample, it re-executes to the run's stdout and images."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lib.emulator import Bash, Edit, Text
from lib.files.samples import list_samples
from lib.runs import export, jobs
from lib.runs import notebook as rerun
from lib.runs.view import load_run_view
from lib.transcript import CodeCell, GeneratedFile
from tests.support.runs import run_to_end, upload

SAMPLES = list_samples()


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _images(nb: nbformat.NotebookNode) -> int:
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {}))


def _execute(folder: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(folder / "analysis.ipynb", as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def _unzip(data: bytes, folder: Path) -> None:
    folder.mkdir()
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.name for s in SAMPLES])
def test_exported_notebook_reruns_to_the_recorded_stdout_and_images(emulator, settings, store, tmp_path, sample):
    file_id = upload(settings, store, sample.name, sample.path.read_bytes())
    run_id = run_to_end(store, settings, sample.suggested_question, [file_id])
    jobs.start_turn(store, settings, run_id, "Now show the distributions.")  # a follow-up with a bash cell
    assert jobs.wait(run_id, 60)
    view = load_run_view(store, run_id, settings.prices)
    tools = {i.tool for t in view.turns for i in t.items if isinstance(i, CodeCell)}
    assert tools == {"code_execution", "bash_code_execution"}

    folder = tmp_path / "unzipped"
    _unzip(export.report_zip(store, view, settings.data_dir), folder)
    assert (folder / "inputs" / sample.name).read_bytes() == sample.path.read_bytes()
    recorded = nbformat.read(folder / "analysis.ipynb", as_version=4)
    rerun_nb = _execute(folder)

    pairs = [(a, b) for a, b in zip(recorded.cells, rerun_nb.cells, strict=True) if a.cell_type == "code"]
    python_cells = [(a, b) for a, b in pairs if a.outputs and not a.source.startswith("run_shell(")]
    assert len(python_cells) >= 2  # the first turn's analysis and the follow-up's (the profile came with the note)
    for before, after in python_cells:
        assert _stdout(after) == _stdout(before), before.source[-300:]
    (ls_before, ls_after) = next((a, b) for a, b in pairs if a.source.startswith("run_shell("))
    assert "ls -la outputs" in ls_before.source
    listed = {line.split()[-1] for line in _stdout(ls_before).splitlines() if line.startswith("-")}
    assert listed and listed <= {line.split()[-1] for line in _stdout(ls_after).splitlines()}

    shown = sum(1 for t in view.turns for i in t.items if isinstance(i, GeneratedFile) and i.mime_type == "image/png")
    assert shown >= 2 and _images(recorded) == shown == _images(rerun_nb)
    made = {p.name for p in (folder / "work" / "outputs").iterdir()}
    generated = {i.filename for t in view.turns for i in t.items if isinstance(i, GeneratedFile)}
    assert generated and generated <= made, "a file the run generated was not made again"


def test_a_missing_input_gets_a_cell_saying_where_to_put_it(emulator, settings, store, tmp_path):
    sample = SAMPLES[0]
    file_id = upload(settings, store, sample.name, sample.path.read_bytes())
    run_id = run_to_end(store, settings, "First look", [file_id])
    (settings.data_dir / store.file(file_id).local_path).unlink()
    view = load_run_view(store, run_id, settings.prices)
    folder = tmp_path / "unzipped"
    _unzip(export.report_zip(store, view, settings.data_dir), folder)
    assert not (folder / "inputs").exists()
    nb = nbformat.read(folder / "analysis.ipynb", as_version=4)
    note = next(c.source for c in nb.cells if c.cell_type == "markdown" and "Input files" in c.source)
    assert "**Put these files in a folder `inputs/` next to this notebook**" in note and sample.name in note
    with pytest.raises(Exception, match=rf"Put {sample.name} in .*inputs"):
        _execute(folder)
    (folder / "inputs").mkdir()
    (folder / "inputs" / sample.name).write_bytes(sample.path.read_bytes())
    assert _images(_execute(folder)) == 1


def test_bash_editor_and_container_paths_become_local_cells(tmp_path, monkeypatch):
    cells = [
        CodeCell(tool="bash_code_execution", code="mkdir -p /tmp/outputs && cp /tmp/inputs/a.csv /tmp/outputs/b.csv"),
        CodeCell(tool="text_editor_code_execution", operation="create", path="/tmp/outputs/s.py", code='x = "1"\n'),
        CodeCell(
            tool="text_editor_code_execution",
            operation="str_replace",
            path="/tmp/outputs/s.py",
            old_str='"1"',
            new_str='"2"',
        ),
        CodeCell(tool="text_editor_code_execution", operation="view", path="/tmp/outputs/s.py"),
    ]
    sources = [rerun.cell_source(c) for c in cells]
    assert sources[0] == "run_shell('mkdir -p outputs && cp a.csv outputs/b.csv')"
    assert all("/tmp/" not in s.split("\n", 1)[-1] for s in sources)
    (tmp_path / "a.csv").write_text("k\n1\n")
    monkeypatch.chdir(tmp_path)
    import shutil
    import subprocess
    import sys

    def run_shell(command: str) -> int:
        return subprocess.run(command, shell=True, executable=shutil.which("bash"), check=True).returncode

    scope = {"run_shell": run_shell, "pathlib": __import__("pathlib"), "sys": sys}
    for source in sources[:3]:
        exec(source, scope)
    assert (tmp_path / "outputs" / "b.csv").read_text() == "k\n1\n"
    assert (tmp_path / "outputs" / "s.py").read_text() == 'x = "2"\n'


def test_requirements_cell_lists_third_party_imports_with_pip_names():
    cells = [
        CodeCell(tool="code_execution", code="import os, json\nimport pandas as pd\nfrom sklearn.tree import X\n"),
        CodeCell(tool="bash_code_execution", code="python3 - <<'EOF'\nfrom PIL import Image\nimport helper\nEOF"),
        CodeCell(tool="text_editor_code_execution", operation="create", path="helper.py", code="import seaborn\n"),
        CodeCell(tool="code_execution", code="this is not python("),
    ]
    assert rerun.requirements(cells) == ["pandas", "pillow", "scikit-learn", "seaborn"]
    assert rerun.requirements_source(cells).endswith("# %pip install pandas pillow scikit-learn seaborn")


def _stderr(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")


def test_editor_operations_and_bash_rerun_like_the_container(emulator, settings, store, tmp_path):
    file_id = upload(settings, store)
    emulator.queue_script(
        [
            Edit("create", "report.py", file_text='import csv\nprint("rows:", sum(1 for _ in open("sales.csv")))\n'),
            Edit("str_replace", "report.py", old_str='"rows:"', new_str='"lines:"'),
            Edit("view", "report.py"),
            Bash("python3 report.py && echo 'total is missing' >&2; exit 2"),
            Bash(
                "python3 - <<'EOF'\nimport os\nopen(os.environ['OUTPUT_DIR'] + '/note.txt', 'w').write('x')\nEOF\nls outputs"
            ),
            Text("Done."),
        ]
    )
    run_id = run_to_end(store, settings, "Script it", [file_id])
    view = load_run_view(store, run_id, settings.prices)
    folder = tmp_path / "unzipped"
    _unzip(export.report_zip(store, view, settings.data_dir), folder)
    recorded = nbformat.read(folder / "analysis.ipynb", as_version=4)
    shell = [c for c in recorded.cells if c.cell_type == "code" and c.source.startswith("run_shell(")]
    assert [_stdout(c) for c in shell] == ["lines: 5\n", "note.txt\n"] and "total is missing" in _stderr(shell[0])
    after = {c.source: c for c in _execute(folder).cells if c.cell_type == "code"}
    for cell in shell:
        assert _stdout(after[cell.source]) == _stdout(cell)
    assert _stderr(after[shell[0].source]) == "total is missing\n(exit code 2)\n"
    view_cell = next(s for s in after if s.startswith("# editor: view"))
    assert _stdout(after[view_cell]) == 'import csv\nprint("lines:", sum(1 for _ in open("sales.csv")))\n\n'
    assert (folder / "work" / "outputs" / "note.txt").read_text() == "x"
