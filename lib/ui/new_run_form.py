"""The Analyze page's form for a new run: the files and SQL sources, the question, ready prompts and the model."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from lib.cost import DEMO_LABEL
from lib.errors import AppError
from lib.files import prompts
from lib.models import available_models
from lib.runs import data_sources, jobs
from lib.settings import TOOL_VERSIONS, Settings
from lib.ui import snapshot_form
from lib.ui.demo_session import link_params
from lib.ui.render import show_error
from lib.ui.setup import Context
from lib.ui.state import (
    DRAFT,
    FILES_PAGE,
    budget_input,
    select_files,
    select_sources,
    selected_files,
    selected_sources,
)

START_ERROR = "analyze_start_error"
FILES = "analyze_files"
SOURCES = "analyze_sources"
QUESTION = "analyze_question"
TARGET = "analyze_target"
KEPT_TARGET = "analyze_target_kept"  # the Drivers target, kept while its widget is not shown
BUDGET_LABEL = "Budget for this run (USD)"
BUDGET_HELP = (
    "Empty or 0: no limit. Checked before every request to the API: once the run's estimated cost reaches "
    "the budget, paused work is not continued and follow-ups are not sent. One answer can go a little "
    "over, since its cost is known only when it ends."
)


def render(ctx: Context) -> None:
    """Draw the form that starts a new run."""
    st.title("Analyze")
    catalogue = [f for f in ctx.store.files() if not f.remote_missing]
    usable = [s.name for s in data_sources.usable(ctx.user, ctx.settings)]
    if not catalogue and not usable:
        st.info(
            "Your library is empty. Upload files first, or analyse a sample dataset from the home page.",
            icon=":material/folder_open:",
        )
        st.page_link(FILES_PAGE, label="Go to Files", icon=":material/folder_open:", query_params=link_params())
        return
    names = {f.id: f"{f.filename} ({f.kind})" for f in catalogue}
    chosen: list[str] = []
    if not catalogue:
        st.caption("Your library has no files yet: upload some on the Files page, or query a SQL source below.")
    else:
        chosen = st.multiselect(
            "Files to analyse",
            options=list(names),
            key=FILES,
            default=[i for i in selected_files() if i in names],
            format_func=names.__getitem__,
        )
        select_files(chosen)
    picked: list[str] = []
    if usable:
        picked = st.multiselect(
            "SQL sources to query",
            options=usable,
            key=SOURCES,
            default=[n for n in selected_sources() if n in usable],
            help="Claude's code queries these databases read-only, on this app's side; see the Data page.",
        )
        select_sources(picked)
    if DRAFT in st.session_state:
        st.session_state[QUESTION] = st.session_state.pop(DRAFT)
    columns = prompts.table_columns([f for f in catalogue if f.id in chosen])
    _ready_prompts(columns)
    question = st.text_area(
        "Your question", key=QUESTION, height=120, placeholder="e.g. What are the main drivers of churn? Show a chart."
    )
    model_col, tool_col, budget_col = st.columns([3, 3, 2])
    if ctx.settings.demo:  # the scripted analyst answers whatever model is asked for; it is none of them
        model_col.selectbox(
            "Model", [DEMO_LABEL], disabled=True, key="analyze_model_demo",
            help="The offline demo's scripted analyst answers: it is not Claude, and a demo run costs nothing.",
        )  # fmt: skip
        model = ctx.settings.model
    else:
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
    blocked = snapshot_form.fallback(ctx, settings, picked, FILES) if picked else False
    # a click callback starts the run before the rerun it causes, so the job does not wait for a redraw
    st.button(
        "Run analysis",
        type="primary",
        key="analyze_run",
        icon=":material/play_arrow:",
        disabled=not ((chosen or picked) and question.strip()) or blocked,
        on_click=_start_run,
        args=(ctx, settings, question.strip(), chosen, picked),
    )
    if START_ERROR in st.session_state:
        show_error(st.session_state.pop(START_ERROR))
    if not chosen and not picked:
        st.caption("Choose at least one file" + (" or SQL source." if usable else "."))


def _start_run(ctx: Context, settings: Settings, question: str, file_ids: list[str], sources: list[str]) -> None:
    try:
        run = jobs.new_run(ctx.store, settings, question, file_ids, sources=sources, user=ctx.user)
    except AppError as err:
        st.session_state[START_ERROR] = err
        return
    st.query_params["run"] = run.id


def _ready_prompts(columns: list[str]) -> None:
    st.caption("Ready prompts")
    cols = st.columns(4)
    for col, (key, label) in zip(cols, prompts.READY.items(), strict=False):
        col.button(label, key=f"prompt_{key}", on_click=_use_prompt, args=(key,), width="stretch")
    # the target belongs to the Drivers prompt: offered while its question is the one in the box
    target = st.session_state.get(KEPT_TARGET, "")
    if columns and st.session_state.get(QUESTION) == prompts.ready("drivers", target):
        if st.session_state.get(TARGET) not in columns:  # the widget forgets its value while it is not shown
            st.session_state[TARGET] = target if target in columns else ""
        st.selectbox(
            "Target column for 'Drivers'",
            [""] + columns,
            key=TARGET,
            format_func=lambda c: c or "(let Claude pick)",
            on_change=_set_target,
        )


def _use_prompt(key: str) -> None:
    st.session_state[QUESTION] = prompts.ready(key, st.session_state.get(KEPT_TARGET, "") if key == "drivers" else "")


def _set_target() -> None:
    st.session_state[KEPT_TARGET] = st.session_state.get(TARGET, "")
    _use_prompt("drivers")


def _models(ctx: Context) -> list[str]:
    cache_key = f"models_{ctx.settings.base_url}_{ctx.settings.demo}"
    if cache_key not in st.session_state:
        try:
            st.session_state[cache_key] = available_models(ctx.client(), ctx.settings.model)
        except AppError:
            st.session_state[cache_key] = [ctx.settings.model]
    return st.session_state[cache_key]
