"""The Analyze page: start a run, watch it stream, stop it, ask follow-ups, reopen past runs."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lib.cost import budget_reached, budget_used_sentence, format_usd
from lib.errors import AppError
from lib.runs import budget as usage
from lib.runs import jobs, names, recovery
from lib.runs import options as runsettings
from lib.runs.view import MIN_READ_SECONDS, LiveTurn, RunView, RunWatch, TurnView, load_run_view
from lib.storage.records import ACTIVE, NAME_LIMIT, RunRecord
from lib.ui import exports, new_run_form, replay_form
from lib.ui.demo_session import link_params
from lib.ui.new_run_form import BUDGET_HELP, BUDGET_LABEL
from lib.ui.render import render_run, render_run_header, render_turn, show_error
from lib.ui.setup import Context
from lib.ui.state import (
    budget_input,
    matching_runs,
    run_search,
)

# While a run is live its turn is looked at this often; a look reads the store only when a change was signalled
# (lib/runs/view.py: LiveTurn), so a quiet tick costs no statement. No oftener than the look reads (MIN_READ_SECONDS):
# each tick redraws the whole turn, and one that starts before the last one's elements are sent drops them.
TICK_SECONDS = MIN_READ_SECONDS
# A run at rest looks this often whether it changed elsewhere (a follow-up asked in another tab or on another
# replica): signals only, no statement. The timer also makes a page reconnecting after a server restart run again.
REST_TICK_SECONDS = 2.0
# A live page drawn while its turn has no words yet waits on the turn's signals for up to this long before it is done
# drawing, so the first words show the moment they are stored.
FIRST_WORDS_WAIT_SECONDS = 0.5
RENAME_ERROR = "analyze_rename_error"
SEARCH = "analyze_run_search"
LISTED_RUNS = 12  # in the sidebar; a search finds the others
IDLE_NOTE_MINUTES = 5  # the API checkpoints a container after about 5 idle minutes


def render(ctx: Context) -> None:
    """Draw the Analyze page for the run in the URL, or the form for a new one."""
    run_id = st.query_params.get("run", "")
    _history(ctx, run_id)
    over = usage.check_user_budget(ctx.store, ctx.store.owner, ctx.settings.prices)
    if over is not None:
        show_error(over)
    if RENAME_ERROR in st.session_state:
        show_error(st.session_state.pop(RENAME_ERROR))
    if run_id and ctx.store.run(run_id):
        _run(ctx, run_id)
    else:
        if run_id:
            st.warning(
                "That run was not found (deleted, made with another data directory, or not yours and not "
                "shared). Start a new one."
            )
        new_run_form.render(ctx)


def _history(ctx: Context, current: str) -> None:
    with st.sidebar:
        st.subheader("Runs")
        if st.button("New analysis", key="analyze_new", icon=":material/add:", disabled=not current):
            st.query_params.from_dict(link_params())
            st.rerun()
        words = run_search(SEARCH)
        found = names.find(ctx.store, words, limit=LISTED_RUNS + 1)
        if not found:
            st.caption(f"No run matches “{words}”." if words else "No runs yet.")
            return
        if words and len(found) <= LISTED_RUNS:
            st.caption(f"{matching_runs(len(found))}.")
        # each run on two lines, so the sidebar shows all that tells reruns apart: name, then start, files, status
        for entry in found[:LISTED_RUNS]:
            here = entry.run.id == current
            with st.container(gap=None):
                st.button(
                    entry.run.name,
                    key=f"analyze_open_{entry.run.id}",
                    type="tertiary",
                    icon=":material/arrow_right:" if here else ":material/history:",
                    disabled=here,
                    on_click=_open_run,
                    args=(entry.run.id,),
                )
                st.caption(f"{entry.started} · {entry.files_text} · {entry.run.status}")
        if len(found) > LISTED_RUNS:
            n = LISTED_RUNS
            st.caption(
                f"More than {n} runs match; the {n} most recently active are listed."
                if words
                else f"The {n} most recently active runs are listed; search to find the others."
            )


def _open_run(run_id: str) -> None:
    st.query_params["run"] = run_id


def _run(ctx: Context, run_id: str) -> None:
    watch = RunWatch.start(ctx.store, run_id)
    view = load_run_view(ctx.store, run_id, ctx.settings.prices)
    assert view is not None
    mine = ctx.store.owns(view.run)
    if view.run.active and jobs.is_active(run_id, ctx.store) and view.turns:
        _live(ctx, view, mine)
        return
    if view.run.active:
        # nobody works on it any more: it was cut off, so say so instead of spinning forever
        recovery.settle(ctx.store, only={run_id})
        watch = RunWatch.start(ctx.store, run_id)
        view = load_run_view(ctx.store, run_id, ctx.settings.prices)
        assert view is not None
    _at_rest(ctx, watch)
    if not mine:
        _read_only(ctx, view)
        return
    replay_form.links(ctx, view, mine)
    render_run(
        view,
        ctx.data_dir,
        on_retry=lambda file_id: _retry_file(ctx, run_id, file_id),
        rename=lambda: _rename(ctx, view.run),
    )
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
            jobs.start_turn(ctx.store, ctx.settings, run_id, follow_up, ctx.user)
        except AppError as err:
            show_error(err)
            return
        st.rerun()


def _at_rest(ctx: Context, watch: RunWatch) -> None:
    """Draw the page again when the run changes elsewhere."""

    @st.fragment(run_every=REST_TICK_SECONDS)
    def changed_elsewhere() -> None:
        if watch.changed(ctx.store):
            st.rerun()

    changed_elsewhere()


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


def _rename(ctx: Context, run: RunRecord) -> None:
    """The owner's control to rename the run: a name in a popover; Enter or Save keeps it."""
    key = f"analyze_name_{run.id}"
    if key not in st.session_state:
        st.session_state[key] = run.name
    with st.popover("Rename", icon=":material/edit:"):
        with st.form(f"analyze_rename_{run.id}", border=False):
            st.text_input(
                "Name",
                key=key,
                max_chars=NAME_LIMIT,
                help="What the run is called in lists, on Compare and in exports. Empty: its question again.",
            )
            st.form_submit_button(
                "Save name", key=f"analyze_rename_save_{run.id}", on_click=_save_name, args=(ctx, run.id, key)
            )


def _save_name(ctx: Context, run_id: str, key: str) -> None:
    try:
        run = names.rename(ctx.store, run_id, st.session_state.get(key) or "")
    except AppError as err:
        st.session_state[RENAME_ERROR] = err
        return
    st.session_state[key] = run.name  # as kept: trimmed, or the question again


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


def _live_turn(run_id: str, idx: int, max_per_owner: int) -> LiveTurn:
    """What the page has seen of the run's live turn; one per run, started afresh when the next turn begins."""
    key = f"analyze_live_{run_id}"
    held = st.session_state.get(key)
    if held is None or held.idx != idx:
        held = st.session_state[key] = LiveTurn(run_id, idx, max_per_owner)
    return held


def _live(ctx: Context, view: RunView, mine: bool = True) -> None:
    """The run's header and finished turns drawn once; only the live turn is redrawn, from what was read last,
    and read again only when it changed."""
    run_id = view.run.id
    replay_form.links(ctx, view, mine)
    render_run_header(view, (lambda: _rename(ctx, view.run)) if mine else None)
    for turn in view.turns[:-1]:
        render_turn(turn, ctx.data_dir, run_id, demo=view.run.demo)
    watch = _live_turn(run_id, view.turns[-1].turn.idx, ctx.settings.max_running_per_user)
    first_run = True  # the fragment's first run is the one inside this redraw of the whole page

    @st.fragment(run_every=TICK_SECONDS)
    def live() -> None:
        nonlocal first_run
        watch.look(ctx.store)
        turn = watch.view(view.run, ctx.settings.prices)
        if turn is None:
            return
        if mine and st.button("Stop", key="analyze_stop", icon=":material/stop_circle:", type="secondary"):
            jobs.stop(run_id, ctx.store)
            jobs.wait(run_id, timeout=10, store=ctx.store)
            st.rerun()
        shown = st.empty()
        _live_turn_body(shown, watch, turn, ctx.data_dir, view.run.demo)
        # Within the page's redraw (after Run), wait here for the first words: the tick after a redraw of the whole
        # page comes 200-300 ms late. Ticks themselves never wait, so the page is at rest between them.
        deadline = time.monotonic() + (FIRST_WORDS_WAIT_SECONDS if first_run else 0.0)
        first_run = False
        while watch.await_first_words(ctx.store, deadline - time.monotonic()):
            fresh = watch.view(view.run, ctx.settings.prices) if watch.look(ctx.store) else None
            if fresh is not None:
                turn = fresh
                _live_turn_body(shown, watch, turn, ctx.data_dir, view.run.demo)
        if not watch.active or (turn.turn.status not in ACTIVE and watch.moved_on):
            st.rerun()  # it ended, was cut off, or a replay went on to its next question

    live()


def _live_turn_body(shown: DeltaGenerator, watch: LiveTurn, turn: TurnView, data_dir: Path, demo: bool) -> None:
    """The live turn as last read, drawn in place of what `shown` held."""
    with shown.container():
        if watch.place is not None:
            _queued(turn.turn.question, watch.place.sentence)
        else:
            render_turn(turn, data_dir, watch.run_id, demo=demo)


def _queued(question: str, sentence: str) -> None:
    """A turn waiting for a worker: the question, and where it stands."""
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        st.caption(f":material/hourglass_empty: {sentence}")
