"""The Admin page: each user's month so far (runs, tokens, estimated cost) and their monthly budgets; with a shared
database, the run workers and the queue."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.cost import format_usd
from lib.runs import budget as usage
from lib.runs.waiting import START_WORKER, queue_overview
from lib.ui.setup import Context
from lib.ui.state import budget_input

BUDGET_HELP = (
    "Empty or 0: no limit. Checked before every request to the API: once the user's estimated cost this "
    "month reaches it, their questions are not sent until the new month or until you raise it."
)
MESSAGE = "admin_message"


def render(ctx: Context) -> None:
    """Draw the Admin page."""
    st.title("Admin")
    month = usage.month_start()
    st.caption(
        f"{month:%B %Y} so far (since the 1st, 00:00 UTC). Costs are estimates, as on each run. "
        + ("Users appear here once they have signed in." if ctx.user.signed_in else "Sign-in is off: one user.")
    )
    if text := st.session_state.pop(MESSAGE, ""):
        st.success(text, icon=":material/check:")
    rows = usage.everyone_month(ctx.store, ctx.settings.prices)
    if rows:
        _usage(ctx, rows)
    else:
        st.info("Nobody has used the app this month yet.", icon=":material/group:")
    _workers(ctx)


def _usage(ctx: Context, rows: list[usage.UserUsage]) -> None:
    st.dataframe(
        pd.DataFrame(
            {
                "user": [r.label for r in rows],
                "runs": [r.runs for r in rows],
                "questions": [r.turns for r in rows],
                "input tokens": [r.input_tokens for r in rows],
                "output tokens": [r.output_tokens for r in rows],
                "estimated cost": [format_usd(r.cost_usd) for r in rows],
                "monthly budget": [format_usd(r.budget_usd) if r.budget_usd else "No limit" for r in rows],
                "status": ["budget reached" if r.budget_reached else "" for r in rows],
            }
        ),
        hide_index=True,
        key="admin_table",
    )
    _budget_form(ctx, rows)


def _workers(ctx: Context) -> None:
    """The run workers, their last beat and running turns, and how many turns wait for one."""
    st.subheader("Run workers")
    if ctx.store.embedded:
        st.caption("The embedded database: this app runs every analysis itself, in its own threads.")
        return
    found = queue_overview(ctx.store)
    st.caption(f"{found.queued} question(s) waiting for a worker.")
    if not found.live:
        st.warning(
            f"No worker is running, so queued questions wait. Start one or more with `{START_WORKER}` and the app's "
            "settings (see Running for a team in the README).",
            icon=":material/engineering:",
        )
    if found.workers:
        st.dataframe(
            pd.DataFrame(
                {
                    "worker": [w.name for w in found.workers],
                    "state": [w.state for w in found.workers],
                    "last beat": [f"{w.beat_seconds_ago:.0f} s ago" for w in found.workers],
                    "running": [f"{w.running} of {w.capacity}" for w in found.workers],
                }
            ),
            hide_index=True,
            key="admin_workers",
        )


def _budget_form(ctx: Context, rows: list[usage.UserUsage]) -> None:
    by_owner = {r.owner: r for r in rows}
    st.subheader("Monthly budget")
    who_col, amount_col = st.columns([3, 2])
    owner = who_col.selectbox("User", list(by_owner), format_func=lambda o: by_owner[o].label, key="admin_user")
    current = by_owner[owner].budget_usd
    budget_input(amount_col, "Monthly budget (USD)", current, f"admin_budget_{owner}", BUDGET_HELP, step=5.0)
    st.button(
        "Save budget",
        key="admin_budget_save",
        icon=":material/savings:",
        on_click=_save_budget,
        args=(ctx, owner, by_owner[owner].label, f"admin_budget_{owner}"),
    )


def _save_budget(ctx: Context, owner: str, label: str, key: str) -> None:
    amount = usage.set_monthly_budget(ctx.store, owner, float(st.session_state.get(key) or 0.0))
    st.session_state[MESSAGE] = f"Monthly budget of {label}: {format_usd(amount) if amount else 'no limit'}."
