"""Session keys shared between pages, and the page paths."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

FILES_PAGE = "pages/1_Files.py"
ANALYZE_PAGE = "pages/2_Analyze.py"
GALLERY_PAGE = "pages/3_Gallery.py"
ADMIN_PAGE = "pages/4_Admin.py"
COMPARE_PAGE = "pages/5_Compare.py"
DATA_PAGE = "pages/6_Data.py"
SELECTED = "selected_file_ids"
SELECTED_SOURCES = "selected_sources"
DRAFT = "draft_question"


def select_files(file_ids: list[str], question: str | None = None) -> None:
    """Carry a file selection (and optionally a question) over to the Analyze page."""
    st.session_state[SELECTED] = list(file_ids)
    if question is not None:
        st.session_state[DRAFT] = question


def selected_files() -> list[str]:
    """The files chosen for the next analysis."""
    return list(st.session_state.get(SELECTED, []))


def select_sources(names: list[str]) -> None:
    """Carry a choice of SQL sources over to the Analyze page."""
    st.session_state[SELECTED_SOURCES] = list(names)


def selected_sources() -> list[str]:
    """The SQL sources chosen for the next analysis."""
    return list(st.session_state.get(SELECTED_SOURCES, []))


def confirmed_button(where: DeltaGenerator, confirm_label: str, label: str, key: str, disabled: bool = False) -> bool:
    """A button that only works after its confirmation box is ticked; the box unticks itself after each use."""
    box = f"{key}_confirm"
    if st.session_state.pop(f"{box}_reset", False):
        st.session_state[box] = False  # can only be changed before the checkbox is drawn, so on the next run
    sure = where.checkbox(confirm_label, key=box, disabled=disabled)
    clicked = where.button(label, key=key, disabled=disabled or not sure, icon=":material/delete:")
    if clicked:
        st.session_state[f"{box}_reset"] = True
    return clicked


RUN_SEARCH_HELP = (
    "Words are looked for in each run's name, its questions and its files' names; every word must be found. "
    "A date finds the runs started then: 2026-12-03, 2026-12, 2026, today, yesterday, or a range such as "
    "2026-12-01..2026-12-15."
)


def run_search(key: str, label: str = "Search runs") -> str:
    """A box to search runs by name, question, file and date; returns what was typed, trimmed."""
    return st.text_input(label, key=key, placeholder="Name, question, file or date", help=RUN_SEARCH_HELP).strip()


def matching_runs(count: int) -> str:
    """How many runs a search found, as a sentence's start."""
    return "1 run matches" if count == 1 else f"{count} runs match"


def budget_input(where: DeltaGenerator, label: str, current: float, key: str, help: str, step: float) -> float:
    """A budget in USD; left empty, no limit (0)."""
    value = where.number_input(
        label,
        min_value=0.0,
        step=step,
        format="%.2f",
        value=current or None,
        placeholder="No limit",
        key=key,
        help=help,
    )
    return float(value or 0.0)
