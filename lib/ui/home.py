"""The home page: key status and setup, the offline demo, sample datasets, recent runs."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from lib import demo
from lib.files import samples, uploads
from lib.files.library import upload_accepted
from lib.ui import demo_session
from lib.ui.demo_session import link_params
from lib.ui.render import STATUS_LABELS, show_error
from lib.ui.setup import Context, display_path, key_help
from lib.ui.state import ANALYZE_PAGE, FILES_PAGE, select_files


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
    cols[0].caption(f"Model: `{s.model}` · code execution tool `{s.tool_version}`")
    cols[1].caption(f"Data directory: `{display_path(s.data_dir)}`")
    keep = link_params()
    st.page_link(FILES_PAGE, label="Files: upload and manage data", icon=":material/folder_open:", query_params=keep)
    st.page_link(ANALYZE_PAGE, label="Analyze: ask a question", icon=":material/query_stats:", query_params=keep)
    _samples(ctx)
    _recent_runs(ctx)


def _samples(ctx: Context) -> None:
    st.subheader("Try a sample dataset")
    for sample in samples.list_samples():
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{sample.name}** — {sample.description}")
            left.caption(f"Suggested question: {sample.suggested_question}")
            if right.button(
                "Analyze", key=f"sample_{sample.name}", disabled=not ctx.settings.has_key, icon=":material/play_arrow:"
            ):
                _use_sample(ctx, sample)


def _use_sample(ctx: Context, sample: samples.Sample) -> None:
    data = sample.path.read_bytes()
    checked = uploads.check_upload(sample.name, data, ctx.settings.max_upload_bytes, ctx.data_dir)
    if isinstance(checked, uploads.Rejected):
        st.error(f"{checked.reason} {checked.hint}")
        return
    with st.spinner(f"Uploading {sample.name}…"):
        result = upload_accepted(ctx.client(), ctx.store, ctx.data_dir, checked)
    if result.error:
        show_error(result.error)
        return
    select_files([result.record.id], sample.suggested_question)
    st.switch_page(ANALYZE_PAGE, query_params=link_params())


def _recent_runs(ctx: Context) -> None:
    runs = ctx.store.runs(limit=8)
    if not runs:
        return
    st.subheader("Recent runs")
    for run in runs:
        when = datetime.fromtimestamp(run.updated_at).strftime("%Y-%m-%d %H:%M")
        st.page_link(
            ANALYZE_PAGE, label=f"{run.title} · {when}", query_params=link_params(run=run.id), icon=":material/history:"
        )
        st.caption(STATUS_LABELS.get(run.status, run.status))
