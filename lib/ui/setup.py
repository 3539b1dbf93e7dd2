"""The one setup call every page makes first: page config, settings, store, sidebar."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import anthropic
import streamlit as st

from lib import demo, identity
from lib.client import make_client
from lib.cost import DEMO_LABEL
from lib.identity import User
from lib.runs import recovery
from lib.settings import Settings, SettingsError, load_settings
from lib.storage import blobs
from lib.storage.store import Store
from lib.storage.users import store_for, welcome
from lib.ui import demo_session, signin
from lib.ui.render import show_error
from lib.ui.state import ADMIN_PAGE, ANALYZE_PAGE, COMPARE_PAGE, DATA_PAGE, FILES_PAGE, GALLERY_PAGE

TYPED_KEY = "typed_api_key"
WELCOMED = "signin_welcomed"


@dataclass(frozen=True)
class Context:
    """What a page gets from setup."""

    settings: Settings
    store: Store  # scoped to the user: every query sees only their data
    user: User = field(default_factory=identity.local_user)

    @property
    def data_dir(self) -> Path:
        """Where this context's files live."""
        return self.settings.data_dir

    def client(self) -> anthropic.Anthropic:
        """An SDK client (raises MissingKeyError without a key)."""
        return make_client(self.settings)


def _secrets() -> dict:
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets.toml anywhere is a normal setup
        return {}
    except Exception as exc:  # noqa: BLE001 - a broken secrets file must not take the app down
        st.warning(
            f"`.streamlit/secrets.toml` could not be read ({type(exc).__name__}); fix its TOML syntax. "
            "Settings from the environment are used meanwhile.",
            icon=":material/warning:",
        )
        return {}


@st.cache_resource(show_spinner=False)
def _store(path: str, url: str) -> Store:
    store = Store(Path(path), url=url)
    recovery.recover(store)
    return store


def current_settings() -> Settings:
    """Settings for this session: file/env settings, a key typed in the sidebar, or the offline demo."""
    settings = load_settings(_secrets(), os.environ)
    typed = st.session_state.get(TYPED_KEY, "").strip()
    if typed:
        settings = settings.with_key(typed, "typed in the sidebar (this session only)")
    if demo_session.active(settings):
        settings = settings.for_demo(demo.demo_url())
    return settings


def page_setup(title: str, icon: str) -> Context:
    """Configure the page, read settings, open the store and draw the shared sidebar."""
    st.set_page_config(page_title=f"{title} · Claude Data Analyst", page_icon=icon, layout="wide")
    try:
        settings = current_settings()
    except SettingsError as err:
        show_error(err)
        st.stop()
    blobs.configure(settings.data_dir, settings.blob_url)
    user = signin.current_user(settings.admins)
    store = store_for(_store(str(settings.data_dir), settings.database_url), user)
    if user.signed_in and st.session_state.get(WELCOMED) != (user.owner, store.location):
        welcome(store, user)
        st.session_state[WELCOMED] = (user.owner, store.location)
    ctx = Context(settings, store, user)
    _sidebar(ctx)
    return ctx


def display_path(path: Path) -> str:
    """A path as short as it can be said: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def _sidebar(ctx: Context) -> None:
    s = ctx.settings
    with st.sidebar:
        # our own links, because classic page discovery would label the home page after its file name
        keep = demo_session.link_params()
        st.page_link("app.py", label="Home", icon=":material/home:", query_params=keep)
        st.page_link(FILES_PAGE, label="Files", icon=":material/folder_open:", query_params=keep)
        st.page_link(DATA_PAGE, label="Data", icon=":material/database:", query_params=keep)
        st.page_link(ANALYZE_PAGE, label="Analyze", icon=":material/query_stats:", query_params=keep)
        st.page_link(GALLERY_PAGE, label="Gallery", icon=":material/photo_library:", query_params=keep)
        st.page_link(COMPARE_PAGE, label="Compare", icon=":material/compare_arrows:", query_params=keep)
        if ctx.user.admin and ctx.user.signed_in:  # single-user, as without sign-in it always was
            st.page_link(ADMIN_PAGE, label="Admin", icon=":material/admin_panel_settings:", query_params=keep)
        st.divider()
        signin.account_box(ctx.user)
        if s.demo:
            st.warning(
                "**Offline demo.** A scripted local analyst answers, not Claude. Its code really runs on this machine.",
                icon=":material/science:",
            )
            if st.button("Leave the demo", key="sidebar_leave_demo"):
                demo_session.leave()
                st.rerun()
        elif s.has_key:
            st.success(f"API key set ({s.key_source}).", icon=":material/key:")
        else:
            st.info(
                "No API key yet. Add one below or on the home page, or try the offline demo.", icon=":material/key_off:"
            )
        with st.expander("API key for this session", expanded=not s.has_key and not s.demo):
            st.text_input(
                "Anthropic API key",
                type="password",
                key=TYPED_KEY,
                help="Kept in this browser session's memory only; never written to disk.",
            )
        st.caption(model_caption(s))
        st.caption(f"Data: `{display_path(s.data_dir)}`")


def model_caption(s: Settings) -> str:
    """Which model answers (in the offline demo: the scripted analyst, which is no model) and which tool."""
    if s.demo:
        return f"Model: `{DEMO_LABEL}` (a scripted local analyst, no cost) · Tool: `{s.tool_version}`"
    return f"Model: `{s.model}` · Tool: `{s.tool_version}`"


def require_admin(ctx: Context) -> None:
    """Stop the page for anyone who is not an admin of this app."""
    if ctx.user.admin:
        return
    st.warning(
        "This page is for the admins of this app. Ask one of them if you need a higher monthly budget.",
        icon=":material/lock:",
    )
    st.stop()


def require_key(ctx: Context) -> None:
    """Stop the page with setup help when there is neither a key nor the demo."""
    if ctx.settings.has_key:
        return
    key_help()
    if st.button("Start the offline demo", key="require_start_demo", type="primary"):
        demo_session.start()
        st.rerun()
    st.stop()


def key_help() -> None:
    """How to add an API key, in three ways."""
    st.info(
        "**No Anthropic API key is configured.** Add one in any of these ways:\n\n"
        "1. Copy `.streamlit/secrets.toml.example` to `.streamlit/secrets.toml` and set `ANTHROPIC_API_KEY`;\n"
        "2. or set the `ANTHROPIC_API_KEY` environment variable before `streamlit run app.py`;\n"
        "3. or paste a key in the sidebar (kept for this browser session only).\n\n"
        "Or press **Start the offline demo** to try the app with a scripted local analyst (not Claude).",
        icon=":material/key:",
    )
