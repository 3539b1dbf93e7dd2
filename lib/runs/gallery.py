"""Gallery queries: artifacts with their lineage, thumbnails, zips and deletion."""

from __future__ import annotations

import io
import shutil
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from lib.errors import NotAllowedError
from lib.files import charts, kinds
from lib.files.thumbs import CACHE_SUFFIXES, thumbnail
from lib.storage import blobs
from lib.storage.records import Artifact, ArtifactFilter
from lib.storage.store import Store
from lib.transcript import CodeCell, Output


@dataclass(frozen=True)
class Card:
    """One gallery entry: an artifact, or a chart's PNG and its Vega-Lite spec together."""

    artifact: Artifact  # what the card shows: the PNG of a pair, else the file itself
    spec: Artifact | None = None

    @property
    def members(self) -> list[Artifact]:
        """The files behind the card (downloaded, zipped and deleted together)."""
        return [self.artifact] + ([self.spec] if self.spec and self.spec.id != self.artifact.id else [])


@dataclass(frozen=True)
class GalleryPage:
    """One page of cards and how many match in all."""

    cards: list[Card]
    total: int
    page: int
    pages: int

    @property
    def artifacts(self) -> list[Artifact]:
        """The artifact each card shows."""
        return [c.artifact for c in self.cards]


@dataclass(frozen=True)
class Lineage:
    """Where an artifact came from: the question and the code cell that made it."""

    artifact: Artifact
    question: str
    code: CodeCell | None
    stdout: str


ALL = -1  # no limit (the store leaves LIMIT out)


def _chart_key(art: Artifact) -> tuple:
    """Files that show as one card share a key: a chart's PNG and spec of the same turn."""
    name = charts.stem(art.filename)
    return (art.run_id, art.turn_idx, name) if name else ("file", art.id)


def page_of(store: Store, flt: ArtifactFilter, page: int, per_page: int) -> GalleryPage:
    """Cards of one gallery page, newest first; a chart's PNG and spec make one card."""
    page = max(page, 1)
    found, _ = store.artifacts(replace(flt, limit=ALL, offset=0))
    if flt.kind == "other":  # a chart's spec is JSON, but the card is a chart
        found = [a for a in found if not charts.is_spec(a.filename)]
    firsts: dict[tuple, Artifact] = {}
    for art in found:
        firsts.setdefault(_chart_key(art), art)
    total = len(firsts)
    chosen = list(firsts.values())[(page - 1) * per_page : page * per_page]
    runs: dict[str, list[Artifact]] = {}
    cards = [card_for(store, a, runs) for a in chosen]
    return GalleryPage(cards, total, page, max(1, -(-total // per_page)))


def card_for(store: Store, art: Artifact, runs: dict[str, list[Artifact]] | None = None) -> Card:
    """The card an artifact belongs to, with its chart partner (whatever the filters let through)."""
    key = _chart_key(art)
    if key[0] == "file":
        return Card(art)
    runs = {} if runs is None else runs
    if art.run_id not in runs:
        runs[art.run_id] = store.artifacts(ArtifactFilter(run_id=art.run_id, limit=ALL))[0]
    pair = [a for a in runs[art.run_id] if _chart_key(a) == key]  # newest first
    png = next((a for a in pair if not charts.is_spec(a.filename)), None)
    spec = next((a for a in pair if charts.is_spec(a.filename)), None)
    return Card(png or art, spec)


def chart_of(data_dir: Path, card: Card) -> charts.Chart | None:
    """How to show a card with a spec (interactive, or its PNG and a note); None for any other card."""
    if card.spec is None:
        return None
    png = card.artifact if card.artifact.id != card.spec.id else None
    return charts.figure_chart(data_dir, card.spec, png, card.spec.filename)


def thumb_for(data_dir: Path, artifact: Artifact) -> Path | None:
    """A cached thumbnail of an image artifact, or None."""
    if not (kinds.is_image(artifact.mime_type) or kinds.is_image(artifact.filename)):
        return None
    if not blobs.shared(data_dir):
        return thumbnail(blobs.path(data_dir, artifact.path), data_dir / "thumbs")
    # with an object store, thumbnails are made once for every replica, under a name that is the same everywhere
    for suffix in CACHE_SUFFIXES:
        found = blobs.path(data_dir, f"thumbs/shared/{kinds.disk_name(artifact.file_id, artifact.run_id + suffix)}")
        if found.is_file():
            return found
    made = thumbnail(blobs.path(data_dir, artifact.path), data_dir / "thumbs")
    if made is not None:
        rel = f"thumbs/shared/{kinds.disk_name(artifact.file_id, artifact.run_id + made.suffix)}"
        (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made, data_dir / rel)
        blobs.keep(data_dir, rel)
    return made


def icon_for(artifact: Artifact) -> str:
    """The Material icon for an artifact without a thumbnail, by its kind."""
    return kinds.icon(artifact.filename, artifact.mime_type)


def lineage(store: Store, artifact: Artifact) -> Lineage:
    """The question and code cell behind an artifact."""
    items = [s.item for s in store.items(artifact.run_id) if s.turn_idx == artifact.turn_idx]
    code = next((i for i in items if isinstance(i, CodeCell) and i.tool_use_id == artifact.tool_use_id), None)
    out = next((i for i in items if isinstance(i, Output) and i.tool_use_id == artifact.tool_use_id), None)
    return Lineage(artifact, artifact.question, code, out.stdout if out else "")


def zip_bytes(store: Store, data_dir: Path, artifacts: list[Artifact]) -> bytes:
    """The chosen artifacts of the store's owner as one zip, under their names cleaned and made unique."""
    owned = [_own(store, art) for art in artifacts]
    found = [(art, path) for art in owned if (path := blobs.path(data_dir, art.path)).exists()]
    entries = kinds.unique_names(art.filename for art, _ in found)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for (_, path), entry in zip(found, entries, strict=True):
            zf.write(path, arcname=entry)
    return buf.getvalue()


def delete_artifact(store: Store, data_dir: Path, artifact: Artifact) -> None:
    """Remove the file of one of the store owner's artifacts and its gallery entry (the transcript notes it is
    gone)."""
    own = _own(store, artifact)
    blobs.delete(data_dir, own.path)
    store.forget_artifact(own.id)


def _own(store: Store, artifact: Artifact) -> Artifact:
    """The artifact as the store's owner has it (its stored row, not what the caller holds); NotAllowedError
    for anyone else's, the same as for one that is gone."""
    own = store.artifact(artifact.id)
    if own is None:
        raise NotAllowedError(
            f"{artifact.filename or 'That file'} is not in your gallery: it was deleted, or it is not yours.",
            "Reload the Gallery page.",
        )
    return own
