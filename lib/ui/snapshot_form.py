"""Where Claude's code cannot query the picked SQL sources (the model or tool version cannot call tools from
code): the Analyze page says so and offers to snapshot a query's rows to a Parquet file of the library instead."""

from __future__ import annotations

import streamlit as st

from lib.errors import AppError
from lib.models import calls_tools_from_code
from lib.runs import data_sources
from lib.settings import Settings
from lib.ui.render import show_error
from lib.ui.setup import Context
from lib.ui.state import select_files, selected_files

SNAPSHOT_SQL = "analyze_snapshot_sql"
SNAPSHOT_MESSAGE = "analyze_snapshot_message"


def fallback(ctx: Context, settings: Settings, picked: list[str], files_key: str) -> bool:
    """Where the chosen model or tool version cannot call tools from code: say so, and offer to snapshot a
    query's rows to a file of the library instead (picked in the files box under `files_key`). Returns whether
    the picked sources cannot be queried."""
    why = data_sources.tools_from_code(settings.tool_version, _model_can(ctx, settings.model))
    if not why:
        return False
    st.warning(
        f"{why} So Claude's code cannot query the picked sources. Choose code_execution_20260120 or later (and a "
        "model that can), or **snapshot a query to a file**: its rows become a Parquet file in your library, "
        "analysed like any other file.",
        icon=":material/database_off:",
    )
    with st.container(border=True):
        source = st.selectbox("Source to snapshot", picked, key="analyze_snapshot_source")
        if SNAPSHOT_SQL not in st.session_state:
            st.session_state[SNAPSHOT_SQL] = "SELECT * FROM "
        st.text_area("Query", key=SNAPSHOT_SQL, height=80, help="One read-only statement; its rows go to the file.")
        st.button(
            "Snapshot to a file",
            key="analyze_snapshot",
            icon=":material/file_save:",
            on_click=_snapshot,
            args=(ctx, source, files_key),
        )
        if SNAPSHOT_MESSAGE in st.session_state:
            message = st.session_state.pop(SNAPSHOT_MESSAGE)
            if isinstance(message, AppError):
                show_error(message)
            else:
                st.success(message, icon=":material/check:")
    return True


def _snapshot(ctx: Context, source: str, files_key: str) -> None:
    sql = str(st.session_state.get(SNAPSHOT_SQL, ""))
    done = data_sources.snapshot_to_file(ctx.client(), ctx.store, ctx.settings, ctx.user, source, sql)
    if done.record is None:
        st.session_state[SNAPSHOT_MESSAGE] = done.error
        return
    select_files([*selected_files(), done.record.id])
    st.session_state.pop(files_key, None)  # the files box starts again from the selection, with the new file
    cut = " (cut at a limit: the file holds the rows that fit)" if done.truncated else ""
    st.session_state[SNAPSHOT_MESSAGE] = (
        f"Saved {done.rows:,} rows{cut} as **{done.record.filename}** in your library and picked it above."
    )


def _model_can(ctx: Context, model: str) -> bool | None:
    """Whether the model's code can call tools, as the API reports it (asked once per session)."""
    key = f"analyze_ptc_{ctx.settings.base_url}_{model}"
    if key not in st.session_state:
        try:
            st.session_state[key] = calls_tools_from_code(ctx.client(), model)
        except Exception:  # noqa: BLE001 - without an answer the request itself will tell
            st.session_state[key] = None
    return st.session_state[key]
