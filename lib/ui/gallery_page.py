"""The Gallery page: every generated artifact as a filterable, paginated grid with lineage."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dtime

import streamlit as st

from lib.files import kinds
from lib.files.preview import format_size
from lib.runs import gallery, names
from lib.storage import blobs
from lib.storage.records import Artifact, ArtifactFilter
from lib.ui.demo_session import link_params
from lib.ui.render import download, render_chart, render_item, stored_file
from lib.ui.setup import Context
from lib.ui.state import ANALYZE_PAGE, confirmed_button

PER_PAGE = 12
CARD_WIDTH = 250  # px: the cards flow into as many columns as fit (3 at 1280 px, 5 at 1920 px)
THUMB_HEIGHT = 150
NAME_CHARS = 22  # of a file name on a card; the rest is on hover
OPEN = "gallery_open"
SELECTED = "gallery_selected"


def render(ctx: Context) -> None:
    """Draw the Gallery page."""
    st.title("Gallery")
    flt = _filters(ctx)
    result = gallery.page_of(ctx.store, flt, st.session_state.get("gallery_page", 1), PER_PAGE)
    if result.page > result.pages:  # filters or deletes shrank the gallery below the page shown
        st.session_state["gallery_page"] = result.pages
        result = gallery.page_of(ctx.store, flt, result.pages, PER_PAGE)
    if not result.total:
        st.info(
            "Nothing here yet. Charts and files Claude makes in an analysis appear here."
            if not flt.words and not flt.run_id and not flt.kind and flt.since is None
            else "No artifact matches these filters.",
            icon=":material/photo_library:",
        )
        return
    opened = ctx.store.artifact(st.session_state.get(OPEN, 0) or 0)
    if opened:
        _detail(ctx, opened)
    _bulk_actions(ctx)
    st.caption(f"{result.total} artifact{'s' * (result.total != 1)} · page {result.page} of {result.pages}")
    _grid(ctx, result.cards)
    if result.pages > 1:
        st.number_input("Page", min_value=1, max_value=result.pages, key="gallery_page", step=1)


def _filters(ctx: Context) -> ArtifactFilter:
    runs = ctx.store.runs(limit=500)
    titles = {e.run.id: e.label for e in names.entries(ctx.store, runs)}  # reruns of one question told apart
    c = st.columns([3, 2, 3, 3])
    run_id = c[0].selectbox(
        "Run", [""] + list(titles), format_func=lambda i: titles.get(i, "All runs"), key="gallery_run"
    )
    kind = c[1].selectbox(
        "Type",
        ["", "image", "other"],
        key="gallery_kind",
        format_func=lambda k: {"": "All types", "image": "Images", "other": "Other files"}[k],
    )
    dates = c[2].date_input("Made between", value=(), key="gallery_dates")
    words = c[3].text_input("Words of the question", key="gallery_words", placeholder="e.g. churn")
    since = until = None
    if isinstance(dates, (tuple, list)) and len(dates) >= 1:
        since = datetime.combine(dates[0], dtime.min).timestamp()
        until = datetime.combine(dates[-1] + timedelta(days=1), dtime.min).timestamp()
    return ArtifactFilter(run_id=run_id, kind=kind, since=since, until=until, words=words.strip())


def _selected() -> set[int]:
    return {
        int(k.removeprefix("gallery_sel_"))
        for k, v in st.session_state.items()
        if isinstance(k, str) and k.startswith("gallery_sel_") and v
    }


def _bulk_actions(ctx: Context) -> None:
    chosen = sorted(_selected())
    picked = [a for a in (ctx.store.artifact(i) for i in chosen) if a]
    runs: dict[str, list[Artifact]] = {}  # one read of each run's artifacts, however many of its cards are ticked
    arts = [m for a in picked for m in gallery.card_for(ctx.store, a, runs).members]
    c = st.columns([3, 3, 2, 2])  # wide enough for "Download N as zip" at 1280 px
    c[0].download_button(
        f"Download {len(arts)} as zip",
        data=lambda: gallery.zip_bytes(ctx.store, ctx.data_dir, arts),
        file_name="artifacts.zip",
        mime="application/zip",
        key="gallery_zip",
        disabled=not arts,
        on_click="ignore",
        icon=":material/folder_zip:",
    )
    if confirmed_button(c[1], f"Confirm deleting {len(arts)}", "Delete selected", "gallery_delete", disabled=not arts):
        for art in arts:
            gallery.delete_artifact(ctx.store, ctx.data_dir, art)
        for art in picked:
            st.session_state.pop(f"gallery_sel_{art.id}", None)
        st.session_state[OPEN] = 0
        st.rerun()


def _grid(ctx: Context, cards: list[gallery.Card]) -> None:
    grid = st.container(horizontal=True, wrap=True, gap="medium")
    for card in cards:
        art = card.artifact
        # every line of a card is one line high (long text ends in an ellipsis, whole on hover), so all cards are
        # as tall as their content and each other, and none cuts its buttons off
        with grid.container(border=True, width=CARD_WIDTH, key=f"gallery_card_{art.id}"):
            thumb = gallery.thumb_for(ctx.data_dir, art)
            with st.container(
                height=THUMB_HEIGHT, border=False, vertical_alignment="center", horizontal_alignment="center"
            ):
                if thumb:
                    # in its own format, so Streamlit has nothing to re-encode
                    st.image(str(thumb), width="stretch", output_format="JPEG" if thumb.suffix == ".jpg" else "PNG")
                else:
                    st.markdown(f"### {gallery.icon_for(art)} {art.filename.rsplit('.', 1)[-1].upper()}")
            st.markdown(f"**{short_name(art.filename)}**", wrap=False, help=art.filename)
            st.caption(art.question or "—", wrap=False, help=art.question or None)
            size = sum(m.size_bytes for m in card.members)
            kind = " · :material/insights: interactive" if card.spec else ""
            st.caption(f"{datetime.fromtimestamp(art.created_at):%m-%d %H:%M} · {format_size(size)}{kind}", wrap=False)
            row = st.container(horizontal=True, vertical_alignment="center", key=f"gallery_buttons_{art.id}")
            row.checkbox("Select", key=f"gallery_sel_{art.id}")
            if row.button("Open", key=f"gallery_open_{art.id}", icon=":material/open_in_full:"):
                st.session_state[OPEN] = art.id
                st.rerun()


def short_name(name: str, limit: int = NAME_CHARS) -> str:
    """A file name shortened in the middle, keeping its start and its end (where the kind and extension are)."""
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 2
    return name[: limit - 1 - tail] + "…" + name[-tail:]


def _detail(ctx: Context, art: Artifact) -> None:
    info = gallery.lineage(ctx.store, art)
    with st.container(border=True):
        head, close = st.columns([6, 1])
        head.subheader(art.filename)
        if close.button("Close", key="gallery_close", icon=":material/close:"):
            st.session_state[OPEN] = 0
            st.rerun()
        card = gallery.card_for(ctx.store, art)
        chart = gallery.chart_of(ctx.data_dir, card)
        path = blobs.path(ctx.data_dir, art.path)
        if chart is not None:
            render_chart(chart, key=f"gallery_{art.id}")
        elif path.exists():
            stored_file(path, art.filename, art.mime_type, tables=False)
        st.markdown(f"**Question:** {info.question}")
        if info.code:
            st.caption("Code that made it")
            render_item(info.code, ctx.data_dir, key=f"gallery_code_{art.id}")
        c = st.columns(3)
        if chart is None and path.exists():
            download(
                c[0], "Download", path, art.filename, kinds.download_mime(art.filename, art.mime_type),
                "gallery_download_one",
            )  # fmt: skip
        c[1].page_link(
            ANALYZE_PAGE, label="Open its run", query_params=link_params(run=art.run_id), icon=":material/history:"
        )
        if confirmed_button(c[2], "Confirm deleting this file", "Delete this file", "gallery_delete_one"):
            for member in card.members:
                gallery.delete_artifact(ctx.store, ctx.data_dir, member)
            st.session_state[OPEN] = 0
            st.rerun()
