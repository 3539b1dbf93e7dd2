"""The home page: key status and setup, the offline demo, sample datasets, recent runs."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib import demo
from lib.cost import model_label
from lib.errors import AppError
from lib.files import samples, uploads
from lib.files.library import upload_accepted
from lib.runs import jobs
from lib.ui import demo_session
from lib.ui.demo_session import link_params
from lib.ui.render import STATUS_LABELS, show_error
from lib.ui.setup import Context, display_path, key_help, model_caption
from lib.ui.state import ANALYZE_PAGE, FILES_PAGE, select_files

PENDING_SAMPLE = "home_pending_sample"  # a sample clicked before the demo started, analysed once it has
TITLE_CHARS = 80


def render(ctx: Context) -> None:
    """Draw the home page."""
    s = ctx.settings
    st.title("Claude Data Analyst")
    st.markdown(
        "Upload CSV, Excel, JSON, Parquet, text, PDF or image files and ask a question in plain language.  \n"
        "Claude writes and runs code in a sandbox; you watch the text, every code cell, its output and each chart "
        "as it streams, and every run and file it made is kept."
    )
    if s.demo:
        st.warning(
            "**You are in the offline demo.** A scripted local analyst answers instead of Claude; its code "
            "really runs on this machine, so the numbers and charts are real.",
            icon=":material/science:",
        )
    elif s.has_key:
        st.success(f"An API key is configured ({s.key_source}).", icon=":material/key:")
    else:
        key_help()
        kept = demo.run_count(s)
        if kept:
            st.info(
                f"**The offline demo has {kept} run{'s' * (kept != 1)} kept.** Continue where you left off; "
                "its runs, files and charts are all still there.",
                icon=":material/science:",
            )
        label, key = (
            ("Continue the demo", "home_continue_demo") if kept else ("Start the offline demo", "home_start_demo")
        )
        if st.button(label, key=key, type="primary", icon=":material/play_arrow:"):
            demo_session.start()
            st.rerun()
        st.caption("The demo starts a scripted local analyst on this machine (loopback only). It is not Claude.")
    cols = st.columns(2)
    cols[0].caption(model_caption(s))
    cols[1].caption(f"Data directory: `{display_path(s.data_dir)}`")
    keep = link_params()
    st.page_link(FILES_PAGE, label="Files: upload and manage data", icon=":material/folder_open:", query_params=keep)
    st.page_link(ANALYZE_PAGE, label="Analyze: ask a question", icon=":material/query_stats:", query_params=keep)
    _samples(ctx)
    _recent_runs(ctx)


def _samples(ctx: Context) -> None:
    st.subheader("Try a sample dataset")
    found = samples.list_samples()
    pending = st.session_state.pop(PENDING_SAMPLE, None)
    if pending and ctx.settings.has_key:  # the demo has just started for this click
        chosen = next((s for s in found if s.name == pending), None)
        if chosen is not None:
            _use_sample(ctx, chosen)
    real = ctx.settings.has_key and not ctx.settings.demo
    if not ctx.settings.has_key:
        st.caption(
            "No API key is set, so a sample is analysed by the offline demo's scripted analyst (not Claude): "
            "one click starts the demo and the analysis."
        )
    for sample in found:
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{sample.name}** — {sample.description}")
            left.caption(f"Asks: {sample.suggested_question}")
            if right.button(
                "Analyze" if ctx.settings.has_key else "Analyze in the demo",
                key=f"sample_{sample.name}",
                icon=":material/play_arrow:",
                help="Uploads the file and asks the question above; the answer streams on the Analyze page."
                + (" This calls the API with your key." if real else ""),
            ):
                if ctx.settings.has_key:
                    _use_sample(ctx, sample)
                else:
                    st.session_state[PENDING_SAMPLE] = sample.name
                    demo_session.start()
                    st.rerun()


def _use_sample(ctx: Context, sample: samples.Sample) -> None:
    """Upload a sample and start its suggested question at once, then watch it on the Analyze page."""
    data = sample.path.read_bytes()
    checked = uploads.check_upload(sample.name, data, ctx.settings.max_upload_bytes, ctx.data_dir)
    if isinstance(checked, uploads.Rejected):
        st.error(f"{checked.reason} {checked.hint}")
        return
    with st.spinner(f"Uploading {sample.name}…"):
        result = upload_accepted(ctx.client(), ctx.store, ctx.data_dir, checked)
    if result.error or result.record is None:
        show_error(result.error or AppError("Upload failed", f"{sample.name} was not stored.", "Try again."))
        return
    select_files([result.record.id])
    try:
        run = jobs.new_run(ctx.store, ctx.settings, sample.suggested_question, [result.record.id])
    except AppError as err:
        show_error(err)
        return
    st.switch_page(ANALYZE_PAGE, query_params=link_params(run=run.id))


def _recent_runs(ctx: Context) -> None:
    runs = ctx.store.runs(limit=8)
    if not runs:
        return
    st.subheader("Recent runs")
    for run in runs:
        when = datetime.fromtimestamp(run.updated_at).strftime("%Y-%m-%d %H:%M")
        # one line per run: its status, its name (shortened at a word, whole on hover), when, which model
        row = st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"home_run_{run.id}")
        row.markdown(STATUS_LABELS.get(run.status, run.status), width="content")
        row.page_link(
            ANALYZE_PAGE,
            label=short_title(run.name),
            query_params=link_params(run=run.id),
            help=run.name,
            width="stretch",
        )
        row.caption(f"{when} · {model_label(run.model, run.demo)}", width="content")


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A title cut at a word boundary with an ellipsis when it is longer than `limit` characters."""
    flat = " ".join(title.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"
