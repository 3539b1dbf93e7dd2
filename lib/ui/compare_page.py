"""The Compare page: two runs side by side, question by question (a replay beside its original by default)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.cost import model_label, usage_text
from lib.runs import names
from lib.runs.diff import CellDiff, NumberChange, Quoted, TurnDiff
from lib.runs.view import Comparison, load_comparison
from lib.ui.demo_session import link_params
from lib.ui.render import STATUS_LABELS, render_figure
from lib.ui.setup import Context
from lib.ui.state import ANALYZE_PAGE, matching_runs, run_search

SHOW_SAME = "compare_show_same"
SEARCH = "compare_run_search"
CHART_WIDTH = 300  # px: two charts and their axes side by side in the wide layout at 1280 px


def render(ctx: Context) -> None:
    """Draw the comparison of the runs in the URL (`a` before, `b` after), or ask which runs to compare."""
    new_id = st.query_params.get("b", "")
    new_run = ctx.store.run(new_id) if new_id else None
    old_id = st.query_params.get("a", "") or (new_run.replay_of if new_run else "")
    st.title("Compare runs")
    old_id, new_id = _pickers(ctx, old_id, new_id)
    if not (old_id and new_id):
        st.info(
            "Choose two runs. To compare answers on new data, open a finished run on the Analyze page and press "
            "**Replay on another file**: the replay is compared with its original here.",
            icon=":material/compare_arrows:",
        )
        return
    found = load_comparison(ctx.store, old_id, new_id, ctx.settings.prices)
    if found is None:
        st.warning("One of the runs was not found (deleted, or not yours and not shared). Choose another.")
        return
    _comparison(ctx, found)


def _pickers(ctx: Context, old_id: str, new_id: str) -> tuple[str, str]:
    words = run_search(SEARCH, "Find runs to compare")
    found = names.find(ctx.store, words, limit=200)
    if words:
        st.caption(f"{matching_runs(len(found))} “{words}”; the runs chosen stay in the lists.")
    known = {e.run.id: e for e in found}
    # the chosen runs stay choosable whatever the search, as does a shared run opened by link (not the user's own)
    chosen = [r for i in (old_id, new_id) if i and i not in known and (r := ctx.store.run(i)) is not None]
    known.update({e.run.id: e for e in names.entries(ctx.store, chosen)})
    ids = [""] + list(known)

    def label(run_id: str) -> str:
        entry = known.get(run_id)
        return entry.label if entry else "—"

    # one above the other: a label needs the page's width to show a run's start, files and status after its name
    old = st.selectbox("Before", ids, index=ids.index(old_id) if old_id in ids else 0, format_func=label)
    new = st.selectbox("After", ids, index=ids.index(new_id) if new_id in ids else 0, format_func=label)
    if (old, new) != (old_id, new_id):
        st.query_params.from_dict({**link_params(), "a": old, "b": new})
        st.rerun()
    return old, new


def _comparison(ctx: Context, found: Comparison) -> None:
    labels = found.labels
    for col, view, label, name in zip(st.columns(2), (found.old, found.new), labels, found.names, strict=True):
        with col:
            st.markdown(f"**{label}:** {name}")
            records = [ctx.store.file(f) for f in view.run.file_ids]
            files = ", ".join(
                f"`{r.filename}`" if r else f"`{fid}`" for r, fid in zip(records, view.run.file_ids, strict=True)
            )
            st.caption(f"{STATUS_LABELS.get(view.run.status, view.run.status)} · files: {files or 'none'}")
            run = view.run
            st.caption(usage_text(view.usage, view.cost, run.demo, model_label(run.model, run.demo)))
            st.page_link(
                ANALYZE_PAGE,
                label=f"Open the {label.lower()}",
                icon=":material/open_in_new:",
                query_params={**link_params(), "run": view.run.id},
            )
    diff = found.diff
    if diff.problem:
        st.warning(f"{diff.problem} Both runs can still be opened.", icon=":material/compare_arrows:")
        return
    st.markdown(
        f"**{diff.changed_numbers}** quoted number(s) changed · **{diff.changed_cells}** code cell(s) printed "
        f"something different · {len(diff.turns)} question(s)"
    )
    show_same = st.toggle("Show numbers that did not change", key=SHOW_SAME)
    for turn in diff.turns:
        _turn(ctx, turn, labels, show_same, f"{found.old.run.id}_{found.new.run.id}")


def _turn(ctx: Context, turn: TurnDiff, labels: tuple[str, str], show_same: bool, key: str) -> None:
    st.divider()
    st.subheader(f"Question {turn.idx + 1}")
    if turn.old_question == turn.new_question or turn.new_question is None or turn.old_question is None:
        st.markdown(turn.new_question or turn.old_question or "")
        if turn.new_question is None:
            st.caption(f"Not asked in the {labels[1].lower()} (yet).")
        elif turn.old_question is None:
            st.caption(f"Not asked in the {labels[0].lower()}.")
    else:
        left, right = st.columns(2)
        left.markdown(turn.old_question)
        right.markdown(turn.new_question)
    _numbers(turn, labels, show_same)
    if turn.figures:
        st.markdown("**Charts**")
        for n, pair in enumerate(turn.figures):
            for col, figure, label in zip(st.columns(2), pair, labels, strict=True):
                with col:
                    if figure is None:
                        st.caption(f"No chart here in the {label.lower()}.")
                    else:
                        render_figure(figure, ctx.data_dir, f"cmp_{key}_{turn.idx}_{n}_{label}", CHART_WIDTH)
    _cells(turn.cells, labels, f"{key}_{turn.idx}")


def _numbers(turn: TurnDiff, labels: tuple[str, str], show_same: bool) -> None:
    shown = turn.numbers if show_same else turn.changed_numbers
    st.markdown("**Numbers quoted in the answers**")
    if shown:
        st.table(pd.DataFrame([_number_row(n, labels) for n in shown]), hide_index=True, border="horizontal")
    same = len(turn.numbers) - len(turn.changed_numbers)
    notes = []
    if not turn.changed_numbers:
        notes.append("No quoted number changed." if turn.numbers else "No numbers were quoted at the same place.")
    if same and not show_same:
        notes.append(f"{same} number(s) quoted the same in both.")
    for quoted, label in ((turn.only_old, labels[0]), (turn.only_new, labels[1])):
        if quoted:
            notes.append(f"Only the {label.lower()} quotes: " + "; ".join(_in_context(q) for q in quoted[:8]))
    for note in notes:
        st.caption(note)


def _number_row(change: NumberChange, labels: tuple[str, str]) -> dict[str, str]:
    return {
        "Where": change.where,
        labels[0]: change.old.text,
        labels[1]: change.new.text,
        "Change": change.change_text,
        "Change %": change.relative_text,
    }


def _in_context(quoted: Quoted) -> str:
    return f"{quoted.before} **{quoted.text}** {quoted.after}".strip()


def _cells(cells: list[CellDiff], labels: tuple[str, str], key: str) -> None:
    if not cells:
        return
    st.markdown("**Output of each code cell**")
    for cell in cells:
        failed = [label for label, bad in zip(labels, (cell.old_failed, cell.new_failed), strict=True) if bad]
        suffix = f" · failed in the {' and '.join(f.lower() for f in failed)}" if failed else ""
        if cell.same:
            lines = len(cell.new_stdout.splitlines())
            st.caption(f":material/check: Cell {cell.number} printed the same ({lines} line(s)){suffix}")
            continue
        with st.expander(f"Cell {cell.number} printed something different{suffix}", expanded=True):
            if not cell.old_code or not cell.new_code:
                missing = labels[0] if not cell.old_code else labels[1]
                st.caption(f"The {missing.lower()} ran no cell here.")
            st.code("\n".join(cell.diff), language="diff")
