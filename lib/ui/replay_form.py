"""Replays on the Analyze page: the form that starts one, and the links between a replay and its original."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lib.errors import AppError
from lib.files import prompts
from lib.runs import jobs, replay
from lib.runs.view import RunView
from lib.storage.records import FileRecord
from lib.ui.demo_session import link_params
from lib.ui.render import show_error
from lib.ui.setup import Context
from lib.ui.state import COMPARE_PAGE

ERROR = "replay_start_error"


def links(ctx: Context, view: RunView, mine: bool) -> None:
    """For a replay: what it replays, how far it got, the comparison, and Continue when it stopped half way.
    For a replayed run: its replays."""
    run = view.run
    if run.replay_of:
        original = ctx.store.run(run.replay_of)
        asked, total = replay.progress(ctx.store, run)
        if original is None:
            st.info("Replay of a run that was deleted or is no longer shared.", icon=":material/replay:")
        else:
            pairs = replay.stand_ins(ctx.store, run, original)
            files = "; ".join(
                f"`{new}` in place of `{old}`" if new != old else f"the same file `{old}`" for old, new in pairs
            )
            st.info(
                f"Replay of **{original.name}** with {files or 'no files'} · {asked} of {total} question(s) asked",
                icon=":material/replay:",
            )
            _compare_link(original.id, run.id, "Compare with the original")
            if mine and asked < total and not run.active:
                st.button(
                    "Continue the replay",
                    key="replay_continue",
                    icon=":material/play_arrow:",
                    on_click=_continue,
                    args=(ctx, run.id),
                )
    for other in ctx.store.replays(run.id):
        _compare_link(run.id, other.id, f"Compare with its replay: {other.name}")
    if ERROR in st.session_state:
        show_error(st.session_state.pop(ERROR))


def _compare_link(old_id: str, new_id: str, label: str) -> None:
    st.page_link(
        COMPARE_PAGE,
        label=label,
        icon=":material/compare_arrows:",
        query_params={**link_params(), "a": old_id, "b": new_id},
    )


def form(ctx: Context, view: RunView, where: DeltaGenerator) -> None:
    """A popover to ask this finished run's questions again with other library files in place of its own."""
    run = view.run
    if run.active or not view.turns:
        return
    mine = {f.id: f for f in ctx.store.files()}
    by_id = {i: f for i, f in mine.items() if not f.remote_missing}  # what can be attached
    label = "Replay on another file" if run.file_ids else "Replay on current data"
    with where.popover(label, icon=":material/replay:"):
        if not by_id and run.file_ids:
            st.caption("Your library is empty: upload the new version of the data on the Files page first.")
            return
        st.caption(
            f"Asks this run's {len(view.turns)} question(s) again, in order, as a new run with the same model, "
            "then compares the answers."
            + (" Pick the file to use in place of each of the run's files." if run.file_ids else "")
        )
        if run.sources:
            st.caption(":material/database: " + replay.sources_note(run))
        choice: dict[str, str] = {}
        for file_id in run.file_ids:
            original = mine.get(file_id)
            name = original.filename if original else file_id
            options = list(by_id)
            picked = st.selectbox(
                f"In place of {name}",
                options,
                index=options.index(file_id) if file_id in by_id else 0,
                format_func=lambda i: f"{by_id[i].filename} ({by_id[i].kind})",
                key=f"replay_pick_{run.id}_{file_id}",
            )
            choice[file_id] = picked
            _columns_note(ctx, original, by_id.get(picked))
        same = all(choice[f] == f for f in run.file_ids)
        if same and run.file_ids:
            st.caption("These are the run's own files: the replay shows how much the answers vary on the same data.")
        st.button(
            "Start replay",
            type="primary",
            key=f"replay_start_{run.id}",
            icon=":material/replay:",
            on_click=_start,
            args=(ctx, run.id, choice),
        )


def _columns_note(ctx: Context, original: FileRecord | None, picked: FileRecord | None) -> None:
    if original is None or picked is None or original.id == picked.id:
        return
    before = prompts.table_columns([original])
    after = prompts.table_columns([picked])
    if not before or not after:
        return
    check = replay.compare_columns(before, after)
    if check.same:
        st.caption(f":material/check: Same columns as `{original.filename}` ({len(before)}).")
        return
    parts = []
    if check.missing:
        parts.append("missing " + ", ".join(f"`{c}`" for c in check.missing[:8]))
    if check.added:
        parts.append("new " + ", ".join(f"`{c}`" for c in check.added[:8]))
    st.warning(
        f"Columns differ from `{original.filename}`: {'; '.join(parts)}. Questions about missing columns may fail.",
        icon=":material/warning:",
    )


def _start(ctx: Context, run_id: str, choice: dict[str, str]) -> None:
    try:
        new = jobs.start_replay(ctx.store, ctx.settings, run_id, choice, ctx.user)
    except AppError as err:
        st.session_state[ERROR] = err
        return
    st.query_params.from_dict({**link_params(), "run": new.id})


def _continue(ctx: Context, run_id: str) -> None:
    try:
        jobs.continue_replay(ctx.store, ctx.settings, run_id, ctx.user)
    except AppError as err:
        st.session_state[ERROR] = err
