"""The Analyze page: start a run, watch it stream, stop it, ask follow-ups, reopen past runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from lib.cost import budget_reached, budget_used_sentence, format_usd
from lib.errors import AppError
from lib.files import prompts
from lib.models import available_models
from lib.runs import budget as usage
from lib.runs import jobs, recovery
from lib.runs import options as runsettings
from lib.runs.view import Follower, RunView, load_run_view, refresh_turn
from lib.settings import TOOL_VERSIONS, Settings
from lib.storage.records import ACTIVE
from lib.ui import exports, replay_form
from lib.ui.demo_session import link_params
from lib.ui.render import render_run, render_run_header, render_turn, show_error
from lib.ui.setup import Context
from lib.ui.state import DRAFT, FILES_PAGE, budget_input, select_files, selected_files

POLL_SECONDS = 0.1  # while a run is live; each poll reads only the live turn
START_ERROR = "analyze_start_error"
IDLE_NOTE_MINUTES = 5  # the API checkpoints a container after about 5 idle minutes
QUESTION = "analyze_question"
BUDGET_LABEL = "Budget for this run (USD)"
BUDGET_HELP = (
    "Empty or 0: no limit. Checked before every request to the API: once the run's estimated cost reaches "
    "the budget, paused work is not continued and follow-ups are not sent. One answer can go a little "
    "over, since its cost is known only when it ends."
)


def render(ctx: Context) -> None:
    """Draw the Analyze page for the run in the URL, or the form for a new one."""
    run_id = st.query_params.get("run", "")
    _history(ctx, run_id)
    over = usage.check_user_budget(ctx.store, ctx.store.owner, ctx.settings.prices)
    if over is not None:
        show_error(over)
    if run_id and ctx.store.run(run_id):
        _run(ctx, run_id)
    else:
        if run_id:
            st.warning(
                "That run was not found (deleted, made with another data directory, or not yours and not "
                "shared). Start a new one."
            )
        _new_run_form(ctx)


def _history(ctx: Context, current: str) -> None:
    runs = ctx.store.runs(limit=200)
    with st.sidebar:
        st.subheader("Runs")
        if st.button("New analysis", key="analyze_new", icon=":material/add:", disabled=not current):
            st.query_params.from_dict(link_params())
            st.rerun()
        if not runs:
            st.caption("No runs yet.")
            return
        labels = {r.id: f"{r.title[:48]} · {datetime.fromtimestamp(r.created_at):%m-%d %H:%M}" for r in runs}
        ids = list(labels)
        choice = st.selectbox(
            "Reopen a run",
            options=[""] + ids,
            index=(ids.index(current) + 1) if current in ids else 0,
            format_func=lambda i: labels.get(i, "—"),
            key=f"analyze_history_{current}",
        )
        if choice and choice != current:
            st.query_params["run"] = choice
            st.rerun()


def _new_run_form(ctx: Context) -> None:
    st.title("Analyze")
    catalogue = [f for f in ctx.store.files() if not f.remote_missing]
    if not catalogue:
        st.info(
            "Your library is empty. Upload files first, or analyse a sample dataset from the home page.",
            icon=":material/folder_open:",
        )
        st.page_link(FILES_PAGE, label="Go to Files", icon=":material/folder_open:", query_params=link_params())
        return
    names = {f.id: f"{f.filename} ({f.kind})" for f in catalogue}
    chosen = st.multiselect(
        "Files to analyse",
        options=list(names),
        key="analyze_files",
        default=[i for i in selected_files() if i in names],
        format_func=names.__getitem__,
    )
    select_files(chosen)
    if DRAFT in st.session_state:
        st.session_state[QUESTION] = st.session_state.pop(DRAFT)
    columns = prompts.table_columns([f for f in catalogue if f.id in chosen])
    _ready_prompts(columns)
    question = st.text_area(
        "Your question", key=QUESTION, height=120, placeholder="e.g. What are the main drivers of churn? Show a chart."
    )
    model_col, tool_col, budget_col = st.columns([3, 3, 2])
    models = _models(ctx)
    default = ctx.settings.model if ctx.settings.model in models else models[0]
    model = model_col.selectbox("Model", models, index=models.index(default), key="analyze_model")
    tool = tool_col.selectbox(
        "Code execution tool",
        TOOL_VERSIONS,
        key="analyze_tool",
        index=TOOL_VERSIONS.index(ctx.settings.tool_version) if ctx.settings.tool_version in TOOL_VERSIONS else 0,
        help="Use code_execution_20250825 for older models such as Opus 4.1.",
    )
    budget = budget_input(
        budget_col, BUDGET_LABEL, ctx.settings.run_budget_usd, "analyze_budget", BUDGET_HELP, step=0.5
    )
    settings = replace(ctx.settings, model=model, tool_version=tool, run_budget_usd=budget)
    # a click callback starts the run before the rerun it causes, so the job does not wait for a redraw
    st.button(
        "Run analysis",
        type="primary",
        key="analyze_run",
        icon=":material/play_arrow:",
        disabled=not (chosen and question.strip()),
        on_click=_start_run,
        args=(ctx, settings, question.strip(), chosen),
    )
    if START_ERROR in st.session_state:
        show_error(st.session_state.pop(START_ERROR))
    if not chosen:
        st.caption("Choose at least one file.")


def _start_run(ctx: Context, settings: Settings, question: str, file_ids: list[str]) -> None:
    try:
        run = jobs.new_run(ctx.store, settings, question, file_ids)
    except AppError as err:
        st.session_state[START_ERROR] = err
        return
    st.query_params["run"] = run.id


def _ready_prompts(columns: list[str]) -> None:
    st.caption("Ready prompts")
    cols = st.columns(4)
    target = ""
    if columns:
        target = st.selectbox(
            "Target column for 'Drivers'",
            [""] + columns,
            key="analyze_target",
            format_func=lambda c: c or "(let Claude pick)",
        )
    for col, (key, label) in zip(cols, prompts.READY.items(), strict=False):
        col.button(
            label, key=f"prompt_{key}", on_click=_set_question, args=(prompts.ready(key, target),), width="stretch"
        )


def _set_question(text: str) -> None:
    st.session_state[QUESTION] = text


def _models(ctx: Context) -> list[str]:
    cache_key = f"models_{ctx.settings.base_url}_{ctx.settings.demo}"
    if cache_key not in st.session_state:
        try:
            st.session_state[cache_key] = available_models(ctx.client(), ctx.settings.model)
        except AppError:
            st.session_state[cache_key] = [ctx.settings.model]
    return st.session_state[cache_key]


def _run(ctx: Context, run_id: str) -> None:
    view = load_run_view(ctx.store, run_id, ctx.settings.prices)
    assert view is not None
    mine = ctx.store.owns(view.run)
    if view.run.active and jobs.is_active(run_id, ctx.store) and view.turns:
        _live(ctx, view, mine)
        return
    if view.run.active:
        # nobody works on it any more: it was cut off, so say so instead of spinning forever
        recovery.settle(ctx.store, only={run_id})
        view = load_run_view(ctx.store, run_id, ctx.settings.prices)
        assert view is not None
    if not mine:
        _read_only(ctx, view)
        return
    replay_form.links(ctx, view, mine)
    render_run(view, ctx.data_dir, on_retry=lambda file_id: _retry_file(ctx, run_id, file_id))
    actions = st.columns([2, 2, 2, 2])  # wide enough for the labels at 1280 px
    exports.render(ctx, view, actions[:2])
    replay_form.form(ctx, view, actions[2])
    with actions[3]:
        _budget(ctx, view)
    if ctx.user.signed_in:
        _share(ctx, view)
    if budget_reached(view.run.budget_usd, view.cost.total_usd):
        st.warning(
            budget_used_sentence(view.cost.total_usd, view.run.budget_usd) + ". Raise the budget to ask a follow-up.",
            icon=":material/savings:",
        )
    if view.run.error and view.run.status == "error":
        st.caption("You can ask again below; the conversation so far is kept.")
    idle = view.container_idle_minutes()
    if idle is not None and idle >= IDLE_NOTE_MINUTES:
        st.caption(
            f":material/schedule: The container has been idle for {idle} min. A follow-up asks the API to restore "
            "it; if it can no longer be used, a new one is started and the run's files are attached again."
        )
    follow_up = st.chat_input("Ask a follow-up in the same container…", key="analyze_followup")
    if follow_up:
        try:
            jobs.start_turn(ctx.store, ctx.settings, run_id, follow_up)
        except AppError as err:
            show_error(err)
            return
        st.rerun()


def _retry_file(ctx: Context, run_id: str, file_id: str) -> None:
    try:
        jobs.retry_file(ctx.store, ctx.settings, run_id, file_id)
    except AppError as err:
        show_error(err)


def _budget(ctx: Context, view: RunView) -> None:
    """The run's budget, and a way to change it."""
    run = view.run
    label = f"Budget {format_usd(run.budget_usd)}" if run.budget_usd else "No budget"
    with st.popover(label, icon=":material/savings:") as box:
        key = f"analyze_run_budget_{run.id}"
        budget_input(box, BUDGET_LABEL, run.budget_usd, key, BUDGET_HELP, step=0.5)
        st.button("Save budget", key="analyze_budget_save", on_click=_save_budget, args=(ctx, run.id, key))


def _save_budget(ctx: Context, run_id: str, key: str) -> None:
    runsettings.set_budget(ctx.store, run_id, float(st.session_state.get(key) or 0.0))


def _read_only(ctx: Context, view: RunView) -> None:
    """Someone else's run shared with everyone signed in: its transcript and exports, but no questions, budget
    changes or deleting."""
    st.info(
        f"Shared read-only by {ctx.store.display_name(view.run.owner)}. You can read it and export it; "
        "to ask questions, start your own analysis.",
        icon=":material/visibility:",
    )
    replay_form.links(ctx, view, mine=False)
    render_run(view, ctx.data_dir)
    actions = st.columns([2, 2, 2, 1])
    exports.render(ctx, view, actions[:2])
    replay_form.form(ctx, view, actions[2])


def _share(ctx: Context, view: RunView) -> None:
    """The owner's switch to share the run read-only with everyone signed in, and its link."""
    run = view.run
    key = f"analyze_share_{run.id}"
    # the switch mirrors the stored flag on every run (it may have changed in another tab); only a flip by
    # the owner, in its callback, writes it
    st.session_state[key] = run.shared
    st.toggle(
        "Share read-only with everyone signed in",
        key=key,
        on_change=_save_shared,
        args=(ctx, run.id, key),
        help="Anyone signed in to this app who has the link can read the run and export it; only you can "
        "ask follow-ups, change its budget or delete it.",
    )
    if run.shared:
        st.caption("Link to share:")
        st.code(_run_link(run.id), language=None)


def _save_shared(ctx: Context, run_id: str, key: str) -> None:
    runsettings.set_shared(ctx.store, run_id, st.session_state[key])


def _run_link(run_id: str) -> str:
    base = urlsplit(st.context.url or "")
    if base.scheme and base.netloc:
        return urlunsplit((base.scheme, base.netloc, base.path, f"run={run_id}", ""))
    return f"Analyze?run={run_id}"


def _live_turn(run_id: str, idx: int) -> Follower:
    """What the poll has seen of the run's live turn; one per run, started afresh when the next turn begins."""
    key = f"analyze_live_{run_id}"
    held = st.session_state.get(key)
    if held is None or held[0] != idx:
        held = st.session_state[key] = (idx, Follower(run_id, idx))
    return held[1]


def _live(ctx: Context, view: RunView, mine: bool = True) -> None:
    """The run's header and finished turns drawn once; only the live turn is polled and redrawn."""
    run_id = view.run.id
    replay_form.links(ctx, view, mine)
    render_run_header(view)
    for turn in view.turns[:-1]:
        render_turn(turn, ctx.data_dir, run_id)
    live_idx = view.turns[-1].turn.idx

    seen = _live_turn(run_id, live_idx)

    @st.fragment(run_every=POLL_SECONDS)
    def live() -> None:
        turn = refresh_turn(ctx.store, view.run, seen, ctx.settings.prices)
        if turn is None:
            return
        if mine and st.button("Stop", key="analyze_stop", icon=":material/stop_circle:", type="secondary"):
            jobs.stop(run_id, ctx.store)
            jobs.wait(run_id, timeout=10, store=ctx.store)
            st.rerun()
        render_turn(turn, ctx.data_dir, run_id)
        if not jobs.is_active(run_id, ctx.store):
            st.rerun()
        if turn.turn.status not in ACTIVE and (ctx.store.turn_state(run_id) or turn.turn).idx != live_idx:
            st.rerun()  # a replay went on to its next question

    live()
