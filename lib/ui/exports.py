"""Export buttons for a finished run."""

from __future__ import annotations

import re
from collections.abc import Sequence

from streamlit.delta_generator import DeltaGenerator

from lib.runs import export
from lib.runs.view import RunView
from lib.ui.setup import Context


def render(ctx: Context, view: RunView, columns: Sequence[DeltaGenerator]) -> None:
    """Notebook and report downloads in two columns; files are built only when clicked."""
    if not view.turns:
        return
    slug = re.sub(r"[^A-Za-z0-9]+", "-", view.run.name).strip("-")[:40] or "analysis"
    columns[0].download_button(
        "Notebook (.ipynb)",
        data=lambda: export.notebook(ctx.store, view, ctx.data_dir),
        file_name=f"{slug}.ipynb",
        mime="application/x-ipynb+json",
        key="export_ipynb",
        on_click="ignore",
        icon=":material/code_blocks:",
    )
    columns[1].download_button(
        "Report + files (.zip)",
        data=lambda: export.report_zip(ctx.store, view, ctx.data_dir),
        file_name=f"{slug}.zip",
        mime="application/zip",
        key="export_zip",
        on_click="ignore",
        icon=":material/folder_zip:",
    )
