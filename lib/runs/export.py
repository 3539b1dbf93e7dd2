"""A run as a Jupyter notebook (nbformat) and as a Markdown report zipped with its files."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lib.cost import usage_text
from lib.files import charts
from lib.runs import notebook as rerun
from lib.runs.view import RunView
from lib.storage import blobs
from lib.storage.store import FileRecord
from lib.transcript import CodeCell, EditorResult, GeneratedFile, Notice, Output, RunError, Text, ToolError


def _cell_source(cell: CodeCell) -> str:
    if cell.tool == "bash_code_execution":
        return "%%bash\n" + cell.code
    if cell.tool == "text_editor_code_execution":
        if cell.operation == "create":
            return f"%%writefile {cell.path}\n{cell.code}"
        return f"# editor: {cell.operation} {cell.path}\n" + (
            f"# replace:\n# {cell.old_str}\n# with:\n# {cell.new_str}" if cell.operation == "str_replace" else ""
        )
    return cell.code


def notebook(view: RunView, data_dir: Path, records: Sequence[FileRecord]) -> str:
    """The run as .ipynb JSON that runs locally: questions and answers as markdown, a setup cell for the inputs
    and output folder, what the code imports, then the code as local cells with the outputs the run recorded.

    `records`: the catalogue records of the run's files; only their names are used (the user brings the files)."""
    return _notebook(view, data_dir, rerun.run_inputs(records), bundled=False)


def _notebook(view: RunView, data_dir: Path, inputs: list[rerun.InputFile], bundled: bool) -> str:
    """The notebook of `notebook`; `bundled`: it ships in the report zip, with the inputs that have a local copy."""
    nb = new_notebook()
    nb.metadata["title"] = view.run.title
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(new_markdown_cell(f"# {view.run.title}\n\n{_made_by(view)}"))
    cells = [i for t in view.turns for i in t.items if isinstance(i, CodeCell)]
    nb.cells.append(new_markdown_cell(rerun.inputs_markdown(inputs, bundled)))
    nb.cells.append(new_code_cell(rerun.requirements_source(cells)))
    nb.cells.append(new_code_cell(rerun.setup_source(inputs)))
    for turn in view.turns:
        nb.cells.append(new_markdown_cell(f"## Question {turn.turn.idx + 1}\n\n{turn.turn.question}"))
        current = None
        found = charts.transcript_charts(turn.items, data_dir)
        for seq, item in enumerate(turn.items):
            if seq in found.skip:  # a PNG exported with its spec
                continue
            if seq in found.at and current is not None:
                current.outputs.append(_chart_output(found.at[seq]))
            elif isinstance(item, Text) and item.text.strip():
                nb.cells.append(new_markdown_cell(item.text))
                current = None
            elif isinstance(item, CodeCell):
                current = new_code_cell(rerun.cell_source(item))
                nb.cells.append(current)
            elif isinstance(item, Output) and current is not None:
                if item.stdout:
                    current.outputs.append(new_output("stream", name="stdout", text=item.stdout))
                if item.stderr:
                    current.outputs.append(new_output("stream", name="stderr", text=item.stderr))
            elif isinstance(item, GeneratedFile) and item.path and current is not None:
                path = blobs.path(data_dir, item.path)
                if item.mime_type == "image/png" and path.exists():
                    data = base64.b64encode(path.read_bytes()).decode()
                    current.outputs.append(
                        new_output("display_data", data={"image/png": data, "text/plain": item.filename})
                    )
            elif isinstance(item, (ToolError, RunError, Notice)):
                text = (
                    getattr(item, "text", "") or f"{getattr(item, 'title', item.kind)}: {getattr(item, 'message', '')}"
                )
                if isinstance(item, ToolError):
                    text = f"Tool error `{item.error_code}`. {item.hint}"
                nb.cells.append(new_markdown_cell(f"> {text}"))
    nbformat.validate(nb)
    return nbformat.writes(nb)


def _chart_output(chart: charts.Chart) -> nbformat.NotebookNode:
    """One display output holding the Vega-Lite spec (when it can be drawn) and the PNG, for Jupyter to choose."""
    data: dict[str, object] = {"text/plain": chart.name}
    if chart.spec is not None:
        data[charts.SPEC_MIME] = chart.spec
    if chart.png_path is not None:
        data["image/png"] = base64.b64encode(chart.png_path.read_bytes()).decode()
    return new_output("display_data", data=data)


def _made_by(view: RunView) -> str:
    """Who answered, with which tool, and what it cost: the offline demo's scripted analyst is no model."""
    run = view.run
    if run.demo:
        who = "Answered by the offline demo's scripted analyst (not Claude), no cost"
    else:
        who = f"Model `{run.model}` · {usage_text(view.usage, view.cost)}"
    return f"{who} · tool `{run.tool_version}`"


def markdown(view: RunView) -> str:
    """The run as a Markdown report; generated files are linked as files/<name>."""
    lines = [f"# {view.run.title}", "", _made_by(view), ""]
    for turn in view.turns:
        lines += [f"## Question {turn.turn.idx + 1}", "", turn.turn.question, ""]
        for item in turn.items:
            if isinstance(item, Text):
                lines += [item.text, ""]
            elif isinstance(item, CodeCell):
                lang = "python" if item.language == "python" else item.language
                lines += [f"```{lang}", _cell_source(item), "```", ""]
            elif isinstance(item, Output):
                if item.stdout:
                    lines += ["```text", item.stdout.rstrip(), "```", ""]
                if item.stderr:
                    lines += ["stderr:", "```text", item.stderr.rstrip(), "```", ""]
            elif isinstance(item, EditorResult) and item.lines:
                lines += ["```diff", *item.lines, "```", ""]
            elif isinstance(item, GeneratedFile) and item.path:
                link = f"files/{Path(item.path).name}"
                if item.mime_type.startswith("image/"):
                    lines += [f"![{item.filename}]({link})", ""]
                elif charts.is_spec(item.filename):
                    lines += [f"[{item.filename}]({link}) (the chart as a Vega-Lite spec, interactive)", ""]
                else:
                    lines += [f"[{item.filename}]({link})", ""]
            elif isinstance(item, (ToolError, RunError, Notice)):
                lines += [f"> {getattr(item, 'text', '') or getattr(item, 'message', '') or item.kind}", ""]
    return "\n".join(lines)


def report_zip(view: RunView, data_dir: Path, records: Sequence[FileRecord]) -> bytes:
    """report.md, analysis.ipynb, the run's input files (`records`) under inputs/ and every generated file, as one zip."""
    inputs = rerun.run_inputs(records, data_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.md", markdown(view))
        zf.writestr("analysis.ipynb", _notebook(view, data_dir, inputs, bundled=True))
        for source in inputs:
            if source.local is not None:
                zf.write(source.local, arcname=f"{rerun.INPUTS_DIR}/{Path(source.name).name}")
        for turn in view.turns:
            for item in turn.items:
                if isinstance(item, GeneratedFile) and item.path and blobs.path(data_dir, item.path).exists():
                    zf.write(blobs.path(data_dir, item.path), arcname=f"files/{Path(item.path).name}")
    return buf.getvalue()
