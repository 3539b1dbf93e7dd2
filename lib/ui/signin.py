"""Sign-in with Streamlit's own OIDC support: the sign-in page, the current user, the account box."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from lib import identity
from lib.identity import User
from lib.ui.render import show_error

SIGN_IN_HELP = (
    "This app is shared by a team, so it asks who you are first. Your files, runs and charts are yours: "
    "nobody else can see them unless you share a run."
)


def auth_section() -> Mapping[str, Any] | None:
    """The `[auth]` section of the secrets, or None when sign-in is off."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file at all: single-user
        return None
    except Exception:  # noqa: BLE001 - a broken secrets file is reported by the settings reader
        return None
    return section if isinstance(section, Mapping) and section else None


def providers(section: Mapping[str, Any]) -> list[str]:
    """Named providers (`[auth.google]` …); empty when `[auth]` itself holds one provider's settings."""
    if section.get("client_id"):
        return []
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def current_user(admins: frozenset[str]) -> User:
    """Who this page is for: the local user without `[auth]`; with it, the signed-in user or the sign-in page."""
    section = auth_section()
    if section is None:
        return identity.local_user()
    if problem := identity.cookie_secret_problem(section):
        show_error(problem)  # before st.user is read: with a known secret, its claims could be forged
        st.stop()
    if not st.user.get("is_logged_in", False):
        sign_in_page(section)
    try:
        return identity.from_claims(st.user.to_dict(), admins)
    except ValueError as err:
        st.error(f"Signing in did not work: {err} Ask whoever runs this app to check the provider settings.")
        st.button("Sign out", on_click=st.logout, key="signin_broken_logout")
        st.stop()


def sign_in_page(section: Mapping[str, Any]) -> None:
    """The page everyone sees before signing in; stops the script."""
    st.title("Claude Data Analyst")
    st.subheader("Sign in to continue")
    st.write(SIGN_IN_HELP)
    names = providers(section)
    if not names:
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login, key="signin")
    for name in names:
        st.button(
            f"Sign in with {name.replace('_', ' ').title()}",
            type="primary",
            icon=":material/login:",
            on_click=st.login,
            args=(name,),
            key=f"signin_{name}",
        )
    st.stop()


def account_box(user: User) -> None:
    """Who is signed in, and the sign-out button (in the sidebar)."""
    if not user.signed_in:
        return
    with st.container(border=True):
        st.markdown(f":material/account_circle: Signed in as **{user.label}**")
        if user.admin:
            st.caption("Admin of this app")
        st.caption(f"Sign-in id (for `ANALYST_ADMINS`): `{user.owner}`")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="signout")
