"""The offline demo in a browser session: kept in the URL (`?demo=1`) so reloads, new tabs and bookmarks stay in it."""

from __future__ import annotations

import streamlit as st

from lib import demo
from lib.settings import Settings

PARAM = "demo"
STARTED = "demo_on"
LEFT = "demo_left"


def active(settings: Settings) -> bool:
    """Whether this session runs the offline demo; keeps `?demo=1` in the URL exactly while it does."""
    url_flag = st.query_params.get(PARAM) == "1"
    on = demo.wanted(
        has_key=settings.has_key,
        started=bool(st.session_state.get(STARTED)),
        left=bool(st.session_state.get(LEFT)),
        url_flag=url_flag,
        is_demo_run=lambda: demo.has_run(settings, st.query_params.get("run", "")),
    )
    if on:
        st.session_state[STARTED] = True
        if not url_flag:
            st.query_params[PARAM] = "1"
    elif PARAM in st.query_params:
        del st.query_params[PARAM]
    return on


def start() -> None:
    """Switch this session to the offline demo."""
    st.session_state[STARTED] = True
    st.session_state[LEFT] = False
    st.query_params[PARAM] = "1"


def leave() -> None:
    """Leave the demo (the only way out): its runs' URLs no longer bring this session back into it."""
    st.session_state[STARTED] = False
    st.session_state[LEFT] = True
    st.query_params.clear()


def link_params(**params: str) -> dict[str, str]:
    """Query parameters for a link or page switch, carrying the demo along while it runs."""
    if st.query_params.get(PARAM) == "1":
        return {**params, PARAM: "1"}
    return dict(params)
