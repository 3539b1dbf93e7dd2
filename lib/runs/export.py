"""A run as a Jupyter notebook (nbformat) and as a Markdown report zipped with its files."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from lib.cost import usage_text
from lib.files import charts, kinds
from lib.runs import notebook as rerun
from lib.runs.view import RunView, TurnView, code_span, shown_where
from lib.storage import blobs
from lib.storage.records import FileRecord
from lib.storage.store import Store
from lib.tracing import Status, TracedNumber, rewrite
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


def notebook(store: Store, view: RunView, data_dir: Path) -> str:
    """A run the store's owner may read as .ipynb JSON that runs locally: questions and answers as markdown, a
    setup cell for the inputs and output folder, what the code imports, then the code as local cells with the
    outputs the run recorded. The inputs are named when they are in the owner's library (the user brings them)."""
    return _notebook(view, data_dir, rerun.run_inputs(_inputs(store, view)), bundled=False)


def _inputs(store: Store, view: RunView) -> list[FileRecord]:
    """The catalogue records of the run's files in the store owner's library, once the run is checked readable:
    a reader of a shared run gets none of the owner's files."""
    store.readable_run(view.run.id)
    return [r for r in map(store.file, view.run.file_ids) if r]


def _notebook(view: RunView, data_dir: Path, inputs: list[rerun.InputFile], bundled: bool) -> str:
    """The notebook of `notebook`; `bundled`: it ships in the report zip, with the inputs that have a local copy."""
    nb = new_notebook()
    nb.metadata["title"] = view.run.name
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(new_markdown_cell(f"# {view.run.name}\n\n{_made_by(view)}"))
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


def _made_by(view: RunView) -> str:
    """Who answered, with which tool, and what it cost: the offline demo's scripted analyst is no model."""
    run = view.run
    if run.demo:
        who = "Answered by the offline demo's scripted analyst (not Claude), no cost"
    else:
        who = f"Model `{run.model}` · {usage_text(view.usage, view.cost)}"
    return f"{who} · tool `{run.tool_version}`"


def markdown(view: RunView) -> str:
    """The run as a Markdown report; generated files are linked as files/<name>; each traced number of an answer
    has a footnote naming the cell and output line that showed it, and each untraced one is marked."""
    entries = _file_entries(view)
    lines = [f"# {view.run.name}", "", _made_by(view), ""]
    notes = _Footnotes()
    for turn in view.turns:
        lines += [f"## Question {turn.turn.idx + 1}", "", turn.turn.question, ""]
        report = _MarkdownLines(entries, turn, notes)
        for item in turn.items:
            lines += dispatch(item, report)
        if turn.trace is not None and turn.trace.counted:
            untraced = "; ".join(n.text for n in turn.trace.untraced)
            lines += [f"*{turn.trace.summary}" + (f"; untraced: {untraced}*" if untraced else "*"), ""]
        lines += notes.new_definitions()
    return "\n".join(lines)


class _Footnotes:
    """The report's footnotes on traced numbers: one per output line and way of matching, numbered as first cited."""

    def __init__(self) -> None:
        self.labels: dict[str, int] = {}
        self.pending: list[str] = []

    def cite(self, n: TracedNumber) -> str:
        """The footnote reference for a traced number (its footnote is added if new)."""
        text = _source_note(n)
        label = self.labels.get(text)
        if label is None:
            label = self.labels[text] = len(self.labels) + 1
            self.pending.append(f"[^{label}]: {text}")
        return f"[^{label}]"

    def new_definitions(self) -> list[str]:
        """The footnotes cited since the last call, as lines."""
        found, self.pending = self.pending, []
        return [*found, ""] if found else []


def _source_note(n: TracedNumber) -> str:
    """Where a traced number came from, as its footnote says it."""
    assert n.source is not None
    where = shown_where(n.source)
    how = "exact" if n.status is Status.EXACT else "rounded"
    return f"{where[0].upper()}{where[1:]}: {code_span(n.source.line_text)} ({how})"


class _MarkdownLines(ItemHandler[list[str]]):
    """The report's lines for each type of transcript item of one turn; generated files are linked by their zip
    entries, code cells named, and an answer's numbers cited in `notes` (untraced ones marked)."""

    def __init__(self, entries: dict[str, str], turn: TurnView, notes: _Footnotes) -> None:
        self.entries, self.notes = entries, notes
        by_seq = turn.trace.by_item() if turn.trace is not None else {}
        self.numbers = {id(item): by_seq.get(seq, []) for seq, item in enumerate(turn.items)}
        self.cells = {id(turn.items[seq]): name for seq, name in turn.cells.items()}

    def text(self, item: Text) -> list[str]:
        return [rewrite(item.text, self.numbers.get(id(item), ()), self._cited), ""]

    def _cited(self, n: TracedNumber) -> str | None:
        if n.traced and n.source is not None:
            return n.text + self.notes.cite(n)
        return f"{n.text} (untraced)" if n.status is Status.UNTRACED else None

    def thinking(self, item: Thinking) -> list[str]:
        return []  # the report is the analysis, not how Claude reasoned about it

    def code(self, item: CodeCell) -> list[str]:
        lang = "python" if item.language == "python" else item.language
        name = self.cells.get(id(item))
        return [*([f"**Cell {name}**", ""] if name else []), f"```{lang}", _cell_source(item), "```", ""]

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


def report_zip(store: Store, view: RunView, data_dir: Path) -> bytes:
    """A run the store's owner may read as one zip: report.md, analysis.ipynb, every generated file, and under
    inputs/ the run's input files that are in the owner's library."""
    inputs = rerun.run_inputs(_inputs(store, view), data_dir)
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
