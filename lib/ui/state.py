"""Session keys shared between pages, and the page paths."""

from __future__ import annotations

import streamlit as st

FILES_PAGE = "pages/1_Files.py"
ANALYZE_PAGE = "pages/2_Analyze.py"
GALLERY_PAGE = "pages/3_Gallery.py"
SELECTED = "selected_file_ids"
DRAFT = "draft_question"


def select_files(file_ids: list[str], question: str | None = None) -> None:
    """Carry a file selection (and optionally a question) over to the Analyze page."""
    st.session_state[SELECTED] = list(file_ids)
    if question is not None:
        st.session_state[DRAFT] = question


def selected_files() -> list[str]:
    """The files chosen for the next analysis."""
    return list(st.session_state.get(SELECTED, []))


def untick_next_run(key: str) -> None:
    """Untick a checkbox on the next run (its state can't be changed after it is drawn in this one)."""
    st.session_state[f"untick_{key}"] = True


def apply_untick(key: str) -> None:
    """Call before drawing the checkbox `key`: untick it if asked to."""
    if st.session_state.pop(f"untick_{key}", False):
        st.session_state[key] = False
