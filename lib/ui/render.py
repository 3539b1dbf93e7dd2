"""Renders lib's dataclasses with Streamlit: transcript items, runs, previews, errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from lib.cost import format_usd, model_label, usage_text
from lib.errors import AppError
from lib.files import charts, heads, thumbs
from lib.files import kinds as filekinds
from lib.files.preview import DocumentPreview, ImagePreview, TablePreview, format_size
from lib.runs.diff import Figure
from lib.runs.view import RunView, TurnView
from lib.storage import blobs
from lib.tracing.records import TracedNumber
from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
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
from lib.ui import traced

STATUS_LABELS = {
    "queued": ":blue[● queued]",
    "running": ":blue[● running]",
    "done": ":green[● done]",
    "stopped": ":orange[● stopped]",
    "error": ":red[● error]",
    "interrupted": ":orange[● interrupted]",
}
TOOL_LABELS = {"code_execution": "Python", "bash_code_execution": "Bash", "text_editor_code_execution": "Editor"}
LONG_LINES = 30
Retry = Callable[[str], None]
LONG_HEIGHT = 520
DELIMITED = frozenset({"csv", "tsv"})  # file kinds whose first rows a transcript shows


def _code(body: str, language: str | None, line_numbers: bool = False) -> None:
    """A code block that scrolls inside a bounded box when it is long, so long cells don't bury the answer."""
    lines = body.count("\n") + 1
    st.code(body, language=language, line_numbers=line_numbers, height=LONG_HEIGHT if lines > LONG_LINES else "content")


def show_error(err: AppError | BaseException) -> None:
    """The one way errors reach the user: what happened and what to do."""
    if not isinstance(err, AppError):
        from lib.errors import describe

        err = describe(err)
    st.error(f"**{err.title}.** {err.message}" + (f"\n\n{err.hint}" if err.hint else ""), icon=":material/error:")


def render_item(
    item: Item,
    data_dir: Path,
    key: str,
    on_retry: Retry | None = None,
    numbers: Sequence[TracedNumber] = (),
    cell: str = "",
) -> None:
    """One transcript item; `on_retry(file_id)` is offered on a generated file whose download failed; a text's
    traced `numbers` are marked where untraced; a code cell named `cell` ("2.3") is anchored for links."""
    dispatch(item, _ItemView(data_dir, key, on_retry, numbers, cell))


class _ItemView(ItemHandler[None]):
    """Draws each type of transcript item."""

    def __init__(
        self, data_dir: Path, key: str, on_retry: Retry | None, numbers: Sequence[TracedNumber], cell: str
    ) -> None:
        self.data_dir, self.key, self.on_retry = data_dir, key, on_retry
        self.numbers, self.cell = numbers, cell

    def text(self, item: Text) -> None:
        st.markdown(traced.marked(item.text, self.numbers))
        if item.citations:
            _citations(item.citations)

    def thinking(self, item: Thinking) -> None:
        with st.expander("Reasoning", icon=":material/psychology:"):
            st.markdown(item.text)

    def code(self, item: CodeCell) -> None:
        if self.cell:  # a heading, so that Streamlit gives it the id cell-2-3 the numbers' list links to
            st.markdown(f"###### Cell {self.cell}", anchors=False)
        _code_cell(item)

    def output(self, item: Output) -> None:
        _output(item)

    def editor(self, item: EditorResult) -> None:
        _editor_result(item)

    def tool_error(self, item: ToolError) -> None:
        st.error(
            f"**{TOOL_LABELS.get(item.tool, item.tool)} tool error: `{item.error_code}`.** "
            f"{item.message} {item.hint}".strip(),
            icon=":material/terminal:",
        )

    def file(self, item: GeneratedFile) -> None:
        _generated_file(item, self.data_dir, self.key, self.on_retry)

    def notice(self, item: Notice) -> None:
        (st.warning if item.level == "warning" else st.info)(item.text, icon=":material/info:")

    def run_error(self, item: RunError) -> None:
        st.error(
            f"**{item.title}.** {item.message}" + (f"\n\n{item.hint}" if item.hint else ""), icon=":material/error:"
        )

    def unsupported(self, item: Unsupported) -> None:
        with st.expander(f"Unsupported block: `{item.block_type}`", icon=":material/help:"):
            st.caption("This version of the app does not know how to show this block; here is what arrived.")
            st.code(item.raw, language="json")

    def query(self, item: Query) -> None:
        _query(item)


def _code_cell(cell: CodeCell) -> None:
    label = TOOL_LABELS.get(cell.tool, cell.tool)
    busy = "" if cell.complete else " · writing…"
    if cell.tool == "text_editor_code_execution":
        st.caption(f":material/edit_note: **{label}** · `{cell.operation}` `{cell.path}`{busy}")
        if cell.operation == "str_replace":
            diff = "\n".join(
                [f"- {line}" for line in cell.old_str.splitlines()]
                + [f"+ {line}" for line in cell.new_str.splitlines()]
            )
            st.code(diff, language="diff")
        elif cell.code:
            _code(cell.code, cell.language, line_numbers=True)
        return
    lines = cell.code.count("\n") + 1
    st.caption(f":material/code: **{label}** · {lines} line{'s' * (lines != 1)}{busy}")
    _code(cell.code or " ", cell.language, line_numbers=cell.language == "python")


QUERY_COLUMNS_SHOWN = 12


def _query(q: Query) -> None:
    """A query the code asked a source for, inside its code cell: the SQL, what came back, and any error."""
    with st.container(border=True):
        shown = ""
        if q.columns and not q.error_kind:
            more = len(q.columns) - QUERY_COLUMNS_SHOWN
            shown = " · columns " + ", ".join(f"`{c}`" for c in q.columns[:QUERY_COLUMNS_SHOWN])
            shown += f" and {more} more" if more > 0 else ""
        st.caption(f":material/database: **SQL** on `{q.source}` · {q.outcome}{shown}")
        st.code(q.sql.strip() or " ", language="sql", wrap_lines=True)
        if q.truncated and q.note:
            st.caption(f":material/content_cut: {q.note}")
        if q.error:
            kind = q.error_kind.replace("_", " ")
            st.error(f"**The query failed ({kind}).** {q.error} {q.hint}".strip(), icon=":material/database:")


def _output(out: Output) -> None:
    if out.encrypted:
        st.caption(":material/lock: stdout is encrypted by the API and cannot be shown.")
    elif out.stdout:
        st.caption(":material/terminal: stdout")
        _code(out.stdout.rstrip("\n"), None)
    if out.stderr:
        st.caption(":red[:material/warning: stderr]")
        _code(out.stderr.rstrip("\n"), "text")
    if out.return_code:
        st.error(f"The command exited with return code {out.return_code}.", icon=":material/cancel:")
    if not (out.stdout or out.stderr or out.encrypted or out.file_ids):
        st.caption(":material/terminal: (no output)")


def _editor_result(res: EditorResult) -> None:
    if res.operation == "view":
        where = ""
        if res.start_line and res.num_lines:
            where = f" · lines {res.start_line}–{res.start_line + res.num_lines - 1} of {res.total_lines or '?'}"
        with st.expander(f"File contents{where}", icon=":material/description:"):
            st.code(res.content, language="text")
    elif res.operation == "create":
        st.caption(":material/check: file updated" if res.is_file_update else ":material/check: file created")
    elif res.operation == "str_replace":
        st.caption(":material/check: edit applied")
        if res.lines:
            st.code("\n".join(res.lines), language="diff")
    else:
        st.caption(f"Editor: {res.operation}")


def _citations(citations: list[dict]) -> None:
    with st.expander(f"Sources ({len(citations)})", icon=":material/format_quote:"):
        for n, cite in enumerate(citations, 1):
            source = cite.get("document_title") or cite.get("title") or cite.get("url") or cite.get("type", "")
            quoted = " ".join(str(cite.get("cited_text") or "").split())
            st.markdown(f"{n}. **{source}**" + (f" — “{quoted[:300]}”" if quoted else ""))


def _generated_file(item: GeneratedFile, data_dir: Path, key: str, on_retry: Retry | None) -> None:
    if item.error or not item.path:
        st.warning(
            f"Could not fetch generated file `{item.filename or item.file_id}`. {item.error}",
            icon=":material/broken_image:",
        )
        if item.retryable and on_retry is not None:
            st.button(
                "Retry download", key=f"retry_{key}", icon=":material/refresh:", on_click=on_retry, args=(item.file_id,)
            )
        return
    path = blobs.path(data_dir, item.path)
    if not path.exists():
        st.warning(f"`{item.filename}` is no longer on disk (deleted from the gallery?).", icon=":material/hide_image:")
        return
    stored_file(path, item.filename, item.mime_type)
    download(
        st, f"Download {item.filename} ({format_size(item.size_bytes)})", path, item.filename,
        filekinds.download_mime(item.filename, item.mime_type), f"dl_{key}",
    )  # fmt: skip


def stored_file(path: Path, name: str, mime: str, tables: bool = True) -> None:
    """A kept file shown as far as that is safe: markup that can run scripts as a note only, a raster image
    downscaled, the first rows of a table (unless `tables` is off); its download is the caller's. Pixels and
    rows are decoded in the sandbox, never here."""
    if filekinds.is_active(name, mime):
        # st.image would turn SVG markup into a data URI, and the media URL opened on its own would run
        # its scripts in the app's origin: drawings made by code are offered as downloads only.
        st.caption(f":material/draw: `{name}` can contain scripts, so it is not shown here; download it to view it.")
    elif filekinds.shown_inline(name, mime):
        _image(path, name)
    elif tables and (kind := filekinds.for_name(name)) and kind.key in DELIMITED:
        head = heads.head_of(path, kind.key)
        if head.value is None:
            st.caption(f":material/table: `{name}`: no preview ({head.problem}); download it to see it.")
            return
        frame = head.value.frame
        st.caption(f":material/table: `{name}` (first rows" + (f", {head.value.note})" if head.value.note else ")"))
        st.dataframe(frame, height=min(38 * (len(frame) + 1), 300), hide_index=True)


def _image(path: Path, name: str) -> None:
    """An image from disk, as a display-size PNG made in the sandbox; one that cannot be shown says why."""
    shown = thumbs.display(path)
    if shown.value is None:
        st.warning(
            f"`{name}` is not shown: {shown.problem}. It can still be downloaded.", icon=":material/broken_image:"
        )
        return
    st.image(shown.value.data, caption=name, output_format="PNG")


def download(
    where: Any, label: str, path: Path, name: str, mime: str, key: str, icon: str = ":material/download:"
) -> None:
    """A download button that reads the file only when clicked."""
    where.download_button(label, data=path.read_bytes, file_name=name, mime=mime, key=key, on_click="ignore", icon=icon)


def render_chart(chart: charts.Chart, key: str, downloads: bool = True, max_width: int | None = None) -> None:
    """A chart: interactive from its Vega-Lite spec (no wider than `max_width`), else its PNG with a note; both
    files downloadable."""
    drawn = False
    if chart.spec is not None:
        try:
            shown = chart.spec if max_width is None else charts.narrowed(chart.spec, max_width)
            # a spec that sets its own width (a square heatmap) keeps its shape instead of being stretched flat
            st.vega_lite_chart(shown, width="content" if isinstance(shown.get("width"), (int, float)) else None)
            st.caption(f":material/insights: `{chart.name}` · interactive chart (Vega-Lite)")
            drawn = True
        except Exception as exc:  # noqa: BLE001 - a spec the renderer rejects falls back to the PNG
            chart = replace(chart, note=f"Interactive chart not shown: it could not be drawn ({type(exc).__name__}).")
    if not drawn and chart.png_path is not None:
        _image(chart.png_path, chart.png_name)
    if chart.note:
        st.caption(f":material/info: {chart.note}")
    if not downloads:
        return
    row = st.container(horizontal=True)
    png, spec = chart.png_path, chart.spec_path
    if png is not None:
        download(row, f"{chart.png_name} ({format_size(png.stat().st_size)})", png, chart.png_name, "image/png",
                  f"dl_{key}_png")  # fmt: skip
    if spec is not None:
        download(row, f"{chart.name} (Vega-Lite spec)", spec, chart.name, "application/json", f"dl_{key}_spec",
                  ":material/data_object:")  # fmt: skip


def render_figure(figure: Figure, data_dir: Path, key: str, max_width: int | None = None) -> None:
    """A chart from a comparison: interactive from its spec when it has one (no wider than `max_width`), else
    its image."""
    chart = charts.figure_chart(data_dir, figure.spec, figure.image, figure.name)
    render_chart(chart, key, downloads=False, max_width=max_width)


def render_turn(view: TurnView, data_dir: Path, run_id: str, on_retry: Retry | None = None, demo: bool = False) -> None:
    """One question and its answer (`demo`: answered by the offline demo, which has no cost)."""
    with st.chat_message("user"):
        st.markdown(view.turn.question)
    with st.chat_message("assistant"):
        found = charts.transcript_charts(view.items, data_dir)
        numbers, cells = (view.trace.by_item() if view.trace is not None else {}), view.cells
        for seq, item in enumerate(view.items):
            key = f"{run_id}_{view.turn.idx}_{seq}"
            if seq in found.at:
                render_chart(found.at[seq], key)
            elif seq not in found.skip:  # a PNG drawn with its spec
                render_item(item, data_dir, key, on_retry, numbers.get(seq, ()), cells.get(seq, ""))
        if view.turn.status == "running" and not view.items:
            st.caption(":material/hourglass_top: Waiting for the first words…")
        counted = f" · {view.trace.summary}" if view.trace is not None else ""
        if view.turn.status == "done":
            st.caption(usage_text(view.turn.usage, view.cost, demo) + counted)
        elif view.turn.status != "running":
            # the final usage figures arrive with the end of a response, so a cut-off turn only has partial ones
            st.caption(
                usage_text(view.turn.usage, view.cost, demo)
                + " · partial: counted until the turn ended early"
                + counted
            )
        if view.trace is not None:
            traced.numbers_expander(view.trace)


def render_run_header(view: RunView, rename: Callable[[], None] | None = None) -> None:
    """Name, status, container, model and cost of a run; `rename` draws the owner's control beside the name."""
    run = view.run
    if rename is None:
        st.subheader(run.name)
    else:
        with st.container(horizontal=True, vertical_alignment="center", wrap=False):
            st.subheader(run.name)  # takes the row's width, the control its own
            rename()
    cols = st.columns([1, 2, 2])
    cols[0].markdown(STATUS_LABELS.get(run.status, run.status))
    if run.container_id:
        idle = view.container_idle_minutes()
        when = "in use" if idle is None else f"idle {idle} min"
        cols[1].caption(f":material/deployed_code: Container `{run.container_id}` · {when}")
    else:
        cols[1].caption(":material/deployed_code: No container yet")
    budget = f" of {format_usd(run.budget_usd)} budget" if run.budget_usd and not run.demo else ""
    cols[2].caption(
        usage_text(view.usage, view.cost, run.demo, model_label(run.model, run.demo)) + budget,
        help="Estimate: token prices from the price table, container time at the billed 5-minute "
        "minimum per turn, without the monthly free allowance.",
    )
    if run.sources:
        st.caption(
            ":material/database: Sources: "
            + ", ".join(f"`{name}`" for name in run.sources)
            + (f" · {view.queries.text}" if view.queries.count else " · no queries yet")
        )
    if run.demo:
        st.caption(":material/science: Offline demo run: a scripted local analyst answered, not Claude.")


def render_run(
    view: RunView, data_dir: Path, on_retry: Retry | None = None, rename: Callable[[], None] | None = None
) -> None:
    """A whole run: header (with the owner's rename control) and every turn."""
    render_run_header(view, rename)
    for turn in view.turns:
        render_turn(turn, data_dir, view.run.id, on_retry, demo=view.run.demo)


def _stat(value: object) -> str:
    """A profile figure as short text; empty when there is none."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_quality(notes: tuple[str, ...] | list[str]) -> None:
    """A table's data-quality notes, the ones Claude gets with every analysis of it."""
    if notes:
        st.info(
            "**Before you analyse** (Claude is told too):\n\n" + "\n".join(f"- {n}" for n in notes),
            icon=":material/fact_check:",
        )


def render_preview(preview: TablePreview | ImagePreview | DocumentPreview) -> None:
    """What the app sees in a file before it is uploaded (all of it made in the sandbox, and bounded); a first
    look's estimates say "about" until the exact profile replaces them."""
    if isinstance(preview, TablePreview):
        c = st.columns(4)
        c[0].metric("Rows", f"{preview.rows:,}" if preview.rows_exact else f"about {preview.rows:,}")
        c[1].metric("Columns", f"{preview.columns:,}")
        c[2].metric(
            "Delimiter",
            {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(
                preview.delimiter or "", preview.delimiter or "—"
            ),
        )
        c[3].metric("Encoding", preview.encoding or "—")
        if preview.sheets:
            st.caption("Sheets: " + ", ".join(preview.sheets))
        render_quality(preview.quality)
        st.dataframe(preview.head, hide_index=True)
        schema = pd.DataFrame(
            {
                "column": [c.name for c in preview.profile],
                "type": [c.type for c in preview.profile],
                "missing": [
                    f"{c.missing:.0%}" if c.missing < 0.995 or c.missing == 1 else ">99%" for c in preview.profile
                ],
                "min": [_stat(c.min) for c in preview.profile],
                "max": [_stat(c.max) for c in preview.profile],
                "mean": [_stat(c.mean) for c in preview.profile],
                "distinct": [
                    "" if c.distinct is None else (f"{c.distinct:,}" if c.distinct_exact else f"≈{c.distinct:,}")
                    for c in preview.profile
                ],
            }
        )
        so_far = f" (about: from the first {preview.sampled:,} rows so far)" if preview.sampled else ""
        with st.expander(f"Columns: types, missing values, ranges and distinct values{so_far}"):
            st.dataframe(schema, hide_index=True)
        if preview.note:
            st.caption(preview.note)
    elif isinstance(preview, ImagePreview):
        caption = f"{preview.width}×{preview.height} px · {preview.format} · {preview.mode}"
        if preview.display:  # made no wider than the preview is shown, so Streamlit has nothing to resize
            st.image(preview.display, caption=caption, output_format="PNG")
        else:
            st.caption(caption)
    else:
        st.caption(
            f"{preview.kind.upper()} · {format_size(preview.size)}"
            + (f" · {preview.pages} pages" if preview.pages else "")
        )
        if preview.text_head:
            st.code(preview.text_head, language="text")
        if preview.note:
            st.caption(preview.note)
