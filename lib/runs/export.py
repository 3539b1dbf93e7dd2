"""A run as a Jupyter notebook (nbformat) and as a Markdown report zipped with its files."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lib.files import charts, kinds
from lib.runs import notebook as rerun
from lib.runs.view import RunView
from lib.storage import blobs
from lib.storage.records import FileRecord
from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    ItemHandler,
    Notice,
    Output,
    Query,
    RunError,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    dispatch,
)


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
    nb.cells.append(
        new_markdown_cell(
            f"# {view.run.title}\n\nModel `{view.run.model}`, tool `{view.run.tool_version}`"
            + (" (offline demo)" if view.run.demo else "")
        )
    )
    cells = [i for t in view.turns for i in t.items if isinstance(i, CodeCell)]
    sources = view.run.sources
    nb.cells.append(new_markdown_cell(rerun.inputs_markdown(inputs, bundled)))
    if sources:
        nb.cells.append(new_markdown_cell(rerun.sources_markdown(sources)))
    nb.cells.append(new_code_cell(rerun.requirements_source(cells, ["sqlalchemy"] if sources else [])))
    nb.cells.append(new_code_cell(rerun.setup_source(inputs)))
    if sources:
        nb.cells.append(new_code_cell(rerun.sources_setup(sources)))
    for turn in view.turns:
        nb.cells.append(new_markdown_cell(f"## Question {turn.turn.idx + 1}\n\n{turn.turn.question}"))
        adding = _NotebookCells(nb, data_dir)
        found = charts.transcript_charts(turn.items, data_dir)
        for seq, item in enumerate(turn.items):
            if seq in found.skip:  # a PNG exported with its spec
                continue
            if seq in found.at and adding.current is not None:
                adding.current.outputs.append(_chart_output(found.at[seq]))
            else:
                dispatch(item, adding)
    nbformat.validate(nb)
    return nbformat.writes(nb)


class _NotebookCells(ItemHandler[None]):
    """Adds each type of transcript item to a notebook: code as cells, what it printed and saved as their outputs."""

    def __init__(self, nb: nbformat.NotebookNode, data_dir: Path) -> None:
        self.nb, self.data_dir = nb, data_dir
        self.current: nbformat.NotebookNode | None = None  # the code cell outputs go to

    def text(self, item: Text) -> None:
        if item.text.strip():
            self.nb.cells.append(new_markdown_cell(item.text))
            self.current = None

    def thinking(self, item: Thinking) -> None:
        pass  # the notebook is the analysis, not how Claude reasoned about it

    def code(self, item: CodeCell) -> None:
        self.current = new_code_cell(rerun.cell_source(item))
        self.nb.cells.append(self.current)

    def output(self, item: Output) -> None:
        if self.current is None:
            return
        if item.stdout:
            self.current.outputs.append(new_output("stream", name="stdout", text=item.stdout))
        if item.stderr:
            self.current.outputs.append(new_output("stream", name="stderr", text=item.stderr))

    def editor(self, item: EditorResult) -> None:
        pass  # its cell makes the edit (or prints the file) when run

    def tool_error(self, item: ToolError) -> None:
        self._quote(f"Tool error `{item.error_code}`. {item.hint}")

    def file(self, item: GeneratedFile) -> None:
        if not item.path or self.current is None:
            return
        path = blobs.path(self.data_dir, item.path)
        if item.mime_type == "image/png" and path.exists():
            data = base64.b64encode(path.read_bytes()).decode()
            self.current.outputs.append(
                new_output("display_data", data={"image/png": data, "text/plain": item.filename})
            )

    def notice(self, item: Notice) -> None:
        self._quote(item.text or f"{item.kind}: ")

    def run_error(self, item: RunError) -> None:
        self._quote(f"{item.title}: {item.message}")

    def unsupported(self, item: Unsupported) -> None:
        pass  # nothing a notebook can show

    def query(self, item: Query) -> None:
        pass  # the cell's own `await sql(...)` asks the source again when it runs

    def _quote(self, text: str) -> None:
        self.nb.cells.append(new_markdown_cell(f"> {text}"))


def _chart_output(chart: charts.Chart) -> nbformat.NotebookNode:
    """One display output holding the Vega-Lite spec (when it can be drawn) and the PNG, for Jupyter to choose."""
    data: dict[str, object] = {"text/plain": chart.name}
    if chart.spec is not None:
        data[charts.SPEC_MIME] = chart.spec
    if chart.png_path is not None:
        data["image/png"] = base64.b64encode(chart.png_path.read_bytes()).decode()
    return new_output("display_data", data=data)


def _file_entries(view: RunView) -> dict[str, str]:
    """Where each generated file of the run goes in the report zip, by its stored path: files/<clean name>."""
    paths = list(dict.fromkeys(i.path for t in view.turns for i in t.items if isinstance(i, GeneratedFile) and i.path))
    return {path: f"files/{entry}" for path, entry in zip(paths, kinds.unique_names(paths), strict=True)}


def markdown(view: RunView) -> str:
    """The run as a Markdown report; generated files are linked as files/<name>."""
    entries = _file_entries(view)
    lines = [f"# {view.run.title}", "", f"Model `{view.run.model}` · tool `{view.run.tool_version}`", ""]
    report = _MarkdownLines(entries)
    for turn in view.turns:
        lines += [f"## Question {turn.turn.idx + 1}", "", turn.turn.question, ""]
        for item in turn.items:
            lines += dispatch(item, report)
    return "\n".join(lines)


class _MarkdownLines(ItemHandler[list[str]]):
    """The report's lines for each type of transcript item; generated files are linked by their zip entries."""

    def __init__(self, entries: dict[str, str]) -> None:
        self.entries = entries

    def text(self, item: Text) -> list[str]:
        return [item.text, ""]

    def thinking(self, item: Thinking) -> list[str]:
        return []  # the report is the analysis, not how Claude reasoned about it

    def code(self, item: CodeCell) -> list[str]:
        lang = "python" if item.language == "python" else item.language
        return [f"```{lang}", _cell_source(item), "```", ""]

    def output(self, item: Output) -> list[str]:
        lines: list[str] = []
        if item.stdout:
            lines += ["```text", item.stdout.rstrip(), "```", ""]
        if item.stderr:
            lines += ["stderr:", "```text", item.stderr.rstrip(), "```", ""]
        return lines

    def editor(self, item: EditorResult) -> list[str]:
        return ["```diff", *item.lines, "```", ""] if item.lines else []

    def tool_error(self, item: ToolError) -> list[str]:
        return [f"> {item.message or item.kind}", ""]

    def file(self, item: GeneratedFile) -> list[str]:
        if not item.path:
            return []
        link = self.entries[item.path]
        if item.mime_type.startswith("image/"):
            return [f"![{item.filename}]({link})", ""]
        if charts.is_spec(item.filename):
            return [f"[{item.filename}]({link}) (the chart as a Vega-Lite spec, interactive)", ""]
        return [f"[{item.filename}]({link})", ""]

    def notice(self, item: Notice) -> list[str]:
        return [f"> {item.text or item.kind}", ""]

    def run_error(self, item: RunError) -> list[str]:
        return [f"> {item.message or item.kind}", ""]

    def unsupported(self, item: Unsupported) -> list[str]:
        return []  # nothing a report can show

    def query(self, item: Query) -> list[str]:
        lines = [f"Query on `{item.source}`: {item.outcome}", "", "```sql", item.sql.strip(), "```", ""]
        if item.error:
            lines += [f"> {item.error}", ""]
        return lines


def report_zip(view: RunView, data_dir: Path, records: Sequence[FileRecord]) -> bytes:
    """report.md, analysis.ipynb, the run's input files (`records`) under inputs/ and every generated file, as one zip."""
    inputs = rerun.run_inputs(records, data_dir)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("report.md", markdown(view))
        zf.writestr("analysis.ipynb", _notebook(view, data_dir, inputs, bundled=True))
        bundled = [(source.name, source.local) for source in inputs if source.local is not None]
        for (_, local), entry in zip(bundled, kinds.unique_names(name for name, _ in bundled), strict=True):
            zf.write(local, arcname=f"{rerun.INPUTS_DIR}/{entry}")
        for path, entry in _file_entries(view).items():
            if (local := blobs.path(data_dir, path)).exists():
                zf.write(local, arcname=entry)
    return buf.getvalue()
