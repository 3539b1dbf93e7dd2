"""The Files page: check, preview and upload files; the library table with delete, download and select."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lib.errors import AppError
from lib.files import api, kinds, library, uploads
from lib.files.preview import format_size
from lib.storage.records import FileRecord
from lib.ui.demo_session import link_params
from lib.ui.render import render_preview, show_error
from lib.ui.setup import Context
from lib.ui.state import ANALYZE_PAGE, confirmed_button, select_files, selected_files

UPLOADER_GEN = "files_uploader_gen"
MESSAGES = "files_messages"
REMOTE_CACHE = "files_remote_cache"
REMOTE_TTL = 30.0


CHECKED = "files_checked"
PROGRESS_SECONDS = 0.3  # how often a file's whole check is shown going on


def _upload_key(f: UploadedFile, max_bytes: int) -> str:
    """What one file in the uploader is kept under: the upload itself and the size limit it was checked with."""
    return f"{getattr(f, 'file_id', '')}|{f.name}|{f.size}|{max_bytes}"


def _intake(ctx: Context, f: UploadedFile) -> uploads.Intake:
    """One file in the uploader on its way in, received once per upload rather than on every rerun: its first look
    is there at once, the whole file's check and profile follow in the background."""
    cache: dict[str, uploads.Intake] = st.session_state.setdefault(CHECKED, {})
    key = _upload_key(f, ctx.settings.max_upload_bytes)
    if key not in cache:
        with st.spinner(f"Checking {f.name}…"):
            cache[key] = uploads.receive(f.name, f.getvalue(), ctx.settings.max_upload_bytes, ctx.data_dir)
    return cache[key]


def render(ctx: Context) -> None:
    """Draw the Files page."""
    st.title("Files")
    st.caption(
        "Files you upload go to your Anthropic workspace (not eligible for zero data retention) and stay "
        "there until you delete them here or they expire. A local copy is kept in the data directory."
    )
    for level, text in st.session_state.pop(MESSAGES, []):
        getattr(st, level)(text)
    _uploader(ctx)
    _library(ctx)


def _uploader(ctx: Context) -> None:
    uploads.warm()  # a parsing worker is ready by the time a file is dropped
    limit_mb = ctx.settings.max_upload_mb
    gen = st.session_state.setdefault(UPLOADER_GEN, 0)
    chosen = st.file_uploader(
        f"Add data files ({kinds.UPLOAD_LABELS}; up to {limit_mb} MB each)",
        accept_multiple_files=True,
        key=f"uploader_{gen}",
    )
    # forget files no longer in the uploader, and their copies
    keys = {_upload_key(f, ctx.settings.max_upload_bytes) for f in chosen or []}
    cache = st.session_state.get(CHECKED, {})
    for key in [k for k in cache if k not in keys]:
        cache.pop(key).discard()
    if not chosen:
        return
    accepted: list[uploads.Accepted] = []
    waiting: list[uploads.Intake] = []
    for f in chosen:
        intake = _intake(ctx, f)
        checked = intake.checked()
        if checked is not None and isinstance(checked.verdict, uploads.Rejected):
            verdict = checked.verdict
            st.error(f"**{verdict.name}** was not accepted. {verdict.reason} {verdict.hint}", icon=":material/block:")
            continue
        if checked is None:
            waiting.append(intake)
        else:
            accepted.append(checked.verdict)  # type: ignore[arg-type]
        renamed = f" (will be uploaded as `{intake.clean}`)" if intake.clean != f.name else ""
        kind = kinds.get(intake.kind)
        with st.expander(
            f"{intake.clean} · {kind.label if kind else intake.kind.upper()} · {format_size(intake.size)}{renamed}",
            expanded=len(chosen) == 1,
            icon=kind.icon if kind else ":material/preview:",
        ):
            if intake.preview is not None:
                render_preview(intake.preview)
            if intake.profiling:
                _progress(intake)
    if not accepted and not waiting:
        return
    left, right = st.columns([2, 3])
    expiry = right.selectbox(
        "Keep in your Anthropic workspace",
        list(library.EXPIRY_CHOICES),
        format_func=library.EXPIRY_CHOICES.__getitem__,
        key="files_expiry",
        help="The Files API deletes the file after this time; the local copy stays.",
    )
    count = len(accepted) + len(waiting)
    if left.button(
        f"Upload {count} file{'s' * (count != 1)} to the Files API",
        type="primary",
        key="files_upload",
        icon=":material/cloud_upload:",
        disabled=bool(waiting),
        help=f"Waiting until {', '.join(i.clean for i in waiting)} is read whole." if waiting else None,
    ):
        _upload(ctx, accepted, expiry)


@st.fragment(run_every=PROGRESS_SECONDS)
def _progress(intake: uploads.Intake) -> None:
    """How far the whole file's check has got; once it is done, the page is drawn again with the exact figures."""
    if not intake.profiling:
        st.rerun()
    share = intake.done / intake.size if intake.size else 0.0
    st.progress(
        min(share, 1.0),
        text=f"Reading the whole file for its exact profile: {format_size(intake.done)} of {format_size(intake.size)}",
    )


def _upload(ctx: Context, accepted: list[uploads.Accepted], expiry: int) -> None:
    client = ctx.client()
    bar = st.progress(0.0, text="Uploading…")
    messages, new_ids = [], []
    for n, checked in enumerate(accepted, start=1):
        bar.progress((n - 1) / len(accepted), text=f"Uploading {checked.name} ({n} of {len(accepted)})…")
        result = library.upload_accepted(client, ctx.store, ctx.data_dir, checked, expiry)
        if result.error:
            messages.append(
                ("error", f"**{checked.name}** could not be uploaded. {result.error.message} {result.error.hint}")
            )
        elif result.record:
            new_ids.append(result.record.id)
            note = "was already in the library; reusing it" if result.reused else "uploaded"
            messages.append(("success", f"**{checked.name}** {note} (`{result.record.id}`)."))
    bar.progress(1.0, text="Done")
    select_files(list(dict.fromkeys(selected_files() + new_ids)))
    st.session_state[MESSAGES] = messages
    st.session_state[UPLOADER_GEN] += 1
    for intake in st.session_state.pop(CHECKED, {}).values():
        intake.discard()  # the uploaded copies moved into the library; a failed one's copy goes
    st.session_state.pop(REMOTE_CACHE, None)
    st.rerun()


def _remote(ctx: Context, refresh: bool) -> list[api.RemoteFile] | None:
    cached = st.session_state.get(REMOTE_CACHE)
    if cached and not refresh and time.time() - cached[0] < REMOTE_TTL and cached[2] == ctx.settings.base_url:
        return cached[1]
    try:
        remote = api.list_all(ctx.client())
    except AppError as err:
        show_error(err)
        return None
    ctx.store.mark_remote({r.id for r in remote})
    st.session_state[REMOTE_CACHE] = (time.time(), remote, ctx.settings.base_url)
    return remote


def _library(ctx: Context) -> None:
    head, refresh_col = st.columns([5, 1])
    head.subheader("Library")
    refresh = refresh_col.button("Refresh", key="files_refresh", icon=":material/refresh:")
    entries = library.catalogue(ctx.store, _remote(ctx, refresh))
    if not entries:
        st.caption("No files yet. Add some above, or try a sample dataset on the home page.")
        return
    table = pd.DataFrame(
        {
            "name": [e.filename for e in entries],
            "size": [format_size(e.size_bytes) for e in entries],
            "type": [e.kind for e in entries],
            "uploaded at": [e.uploaded_at.strftime("%Y-%m-%d %H:%M") for e in entries],
            "downloadable": [e.downloadable for e in entries],
            "expires": [e.expires_at.strftime("%Y-%m-%d %H:%M") if e.expires_at else "" for e in entries],
            "status": [e.status for e in entries],
            "id": [e.id for e in entries],
        }
    )
    st.dataframe(table, hide_index=True, key="files_table")
    missing = [e.filename for e in entries if e.status == "missing remotely"]
    if missing:
        st.warning(
            "Gone from the Files API (deleted or expired elsewhere): "
            + ", ".join(missing)
            + ". Their local copies are kept; upload them again to analyse them.",
            icon=":material/cloud_off:",
        )
    by_id = {e.id: e for e in entries}
    default = [i for i in selected_files() if i in by_id]
    chosen = st.multiselect(
        "Select files",
        options=list(by_id),
        default=default,
        key="files_select",
        format_func=lambda i: f"{by_id[i].filename} ({by_id[i].kind}, {i[-8:]})",
    )
    select_files(chosen)
    usable = [i for i in chosen if by_id[i].usable]
    cols = st.columns(3)
    if cols[0].button(
        f"Analyze {len(usable)} selected",
        key="files_analyze",
        type="primary",
        disabled=not usable,
        icon=":material/query_stats:",
    ):
        select_files(usable)
        st.switch_page(ANALYZE_PAGE, query_params=link_params())
    if confirmed_button(
        cols[1], f"Confirm deleting {len(chosen)}", "Delete selected", "files_delete", disabled=not chosen
    ):
        problems = library.delete(ctx.client(), ctx.store, ctx.data_dir, chosen)
        done = len(chosen) - len(problems)
        st.session_state[MESSAGES] = [("success", f"Deleted {done} file{'s' * (done != 1)}.")] + [
            ("error", p) for p in problems
        ]
        select_files([])
        st.session_state.pop(REMOTE_CACHE, None)
        st.rerun()
    if len(chosen) == 1:
        entry = by_id[chosen[0]]
        if entry.local_path or entry.downloadable:
            cols[2].download_button(
                f"Download {entry.filename}",
                data=lambda: library.file_bytes(ctx.client(), ctx.store, ctx.data_dir, entry),
                file_name=entry.filename,
                mime=entry.mime_type,
                key="files_download",
                on_click="ignore",
                icon=":material/download:",
            )
        else:
            cols[2].caption("The API does not allow downloading uploaded files, and there is no local copy.")
        _notes(ctx, entry.id)


def _notes(ctx: Context, file_id: str) -> None:
    """The analyst's notes on one file, sent to Claude with every analysis of it."""
    record = ctx.store.file(file_id)
    if record is None:
        return
    with st.expander(f"Notes for Claude about {record.filename}", expanded=True, icon=":material/edit_note:"):
        text = st.text_area(
            "Column meanings, units, business rules: anything Claude should know",
            value=record.notes,
            key=f"files_notes_{file_id}",
            height=100,
            placeholder="e.g. revenue is in EUR excluding VAT; churned=1 means cancelled within 30 days",
        )
        st.button(
            "Save notes",
            key="files_save_notes",
            icon=":material/save:",
            disabled=text == record.notes,
            on_click=_save_notes,
            args=(ctx, record, f"files_notes_{file_id}"),
        )


def _save_notes(ctx: Context, record: FileRecord, key: str) -> None:
    library.save_notes(ctx.store, record.id, st.session_state[key])
    st.session_state[MESSAGES] = [
        ("success", f"Notes saved for **{record.filename}**; they go with every analysis of it.")
    ]
