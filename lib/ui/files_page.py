"""The Files page: check, preview and upload files; the library table with delete, download and select."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator
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
SELECT = "files_select"
RESELECT = "files_reselect"  # the selection was changed elsewhere (an upload): the picker takes it over
PREVIEWS = "files_previews"
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
    if new_ids:  # what was just uploaded is what the user goes on with
        select_files(new_ids)
        st.session_state[RESELECT] = True
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
    everything = library.catalogue(ctx.store, _remote(ctx, refresh))
    # files Claude's code made are a run's results (in the Gallery, with the question that made them), not inputs
    entries = [e for e in everything if not e.generated]
    if not entries:
        st.caption("No files yet. Add some above, or try a sample dataset on the home page.")
    else:
        _table(entries, "files_table")
    missing = [e.filename for e in entries if e.status == "missing remotely"]
    if missing:
        st.warning(
            "Gone from the Files API (deleted or expired elsewhere): "
            + ", ".join(missing)
            + ". Their local copies are kept; upload them again to analyse them.",
            icon=":material/cloud_off:",
        )
    if entries:
        _actions(ctx, entries)
    _generated(ctx, [e for e in everything if e.generated])


def _table(entries: list[library.LibraryEntry], key: str) -> None:
    table = pd.DataFrame(
        {
            "name": [e.filename for e in entries],
            "size": [format_size(e.size_bytes) for e in entries],
            "type": [e.kind for e in entries],
            "uploaded at": [e.uploaded_at.strftime("%Y-%m-%d %H:%M") for e in entries],
            "download": [e.download_from for e in entries],
            "expires": [e.expires_at.strftime("%Y-%m-%d %H:%M") if e.expires_at else "" for e in entries],
            "status": [e.status for e in entries],
            "id": [e.id for e in entries],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        key=key,
        column_config={
            "download": st.column_config.TextColumn(
                help="Where Download gets the file: the copy kept in the data directory, or the Files API (which "
                "lets only files made by code be downloaded)."
            )
        },
    )


def _actions(ctx: Context, entries: list[library.LibraryEntry]) -> None:
    by_id = {e.id: e for e in entries}
    # the picker's own state is written only when it must change: set on every run, it would undo the user's edits
    reselect = st.session_state.pop(RESELECT, False)
    if reselect or SELECT not in st.session_state:
        st.session_state[SELECT] = [i for i in selected_files() if i in by_id]
    elif any(i not in by_id for i in st.session_state[SELECT]):  # a file deleted meanwhile drops out
        st.session_state[SELECT] = [i for i in st.session_state[SELECT] if i in by_id]
    chosen = st.multiselect(
        "Select files",
        options=list(by_id),
        key=SELECT,
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
        _delete(ctx, chosen)
    if len(chosen) == 1:
        entry = by_id[chosen[0]]
        _download(ctx, cols[2], entry)
        _preview(ctx, entry)
        _notes(ctx, entry.id)


def _delete(ctx: Context, file_ids: list[str]) -> None:
    problems = library.delete(ctx.client(), ctx.store, ctx.data_dir, file_ids)
    done = len(file_ids) - len(problems)
    st.session_state[MESSAGES] = [("success", f"Deleted {done} file{'s' * (done != 1)}.")] + [
        ("error", p) for p in problems
    ]
    select_files([])
    st.session_state[RESELECT] = True
    st.session_state.pop(REMOTE_CACHE, None)
    st.rerun()


def _download(ctx: Context, where: DeltaGenerator, entry: library.LibraryEntry) -> None:
    if entry.download_from == "not available":
        where.caption("The API does not allow downloading uploaded files, and there is no local copy.")
        return
    where.download_button(
        f"Download {entry.filename}",
        data=lambda: library.file_bytes(ctx.client(), ctx.store, ctx.data_dir, entry),
        file_name=entry.filename,
        mime=entry.mime_type,
        key="files_download",
        on_click="ignore",
        icon=":material/download:",
        help=f"From the {entry.download_from}.",
    )


def _preview(ctx: Context, entry: library.LibraryEntry) -> None:
    """The file's preview and profile again: a table's as kept since its upload, other files' from the local copy,
    parsed in the limited worker as on upload."""
    record = ctx.store.file(entry.id)
    if record is None or not (record.local_path or record.profile):
        return
    if not st.toggle(f"Preview and profile of {entry.filename}", key=f"files_preview_{entry.id}"):
        return
    cache: dict[str, object] = st.session_state.setdefault(PREVIEWS, {})
    if entry.id not in cache:  # read once per session, not on every rerun
        with st.spinner(f"Reading {entry.filename}…"):
            cache[entry.id] = library.stored_preview(ctx.data_dir, record)
    found = cache[entry.id]
    if isinstance(found, AppError):
        show_error(found)
        return
    with st.container(border=True):
        render_preview(found)  # an image's is drawn from what the worker made of it, never from its bytes


def _generated(ctx: Context, entries: list[library.LibraryEntry]) -> None:
    """Files Claude's code made: results, kept with their runs in the Gallery, listed here because they also stay
    in the Anthropic workspace until deleted."""
    if not entries:
        return
    with st.expander(
        f"Made by Claude's code: {len(entries)} file(s) in your Anthropic workspace", icon=":material/auto_awesome:"
    ):
        st.caption(
            "These are results of your analyses, not inputs: the Gallery shows each with the question and code "
            "that made it. They stay in your Anthropic workspace until deleted here."
        )
        _table(entries, "files_generated_table")
        by_id = {e.id: e for e in entries}
        chosen = st.multiselect(
            "Select generated files",
            options=list(by_id),
            key="files_generated_select",
            format_func=lambda i: f"{by_id[i].filename} ({i[-8:]})",
        )
        if confirmed_button(
            st.container(),
            f"Confirm deleting {len(chosen)} from the workspace",
            "Delete from the workspace",
            "files_generated_delete",
            disabled=not chosen,
        ):
            _delete(ctx, chosen)


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
