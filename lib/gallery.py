"""Gallery queries: artifacts with their lineage, thumbnails, zips and deletion."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lib import filekinds
from lib.store import Artifact, ArtifactFilter, Store
from lib.thumbs import thumbnail
from lib.transcript import CodeCell, Output


@dataclass(frozen=True)
class GalleryPage:
    """One page of artifacts and how many match in all."""

    artifacts: list[Artifact]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Lineage:
    """Where an artifact came from: the question and the code cell that made it."""

    artifact: Artifact
    question: str
    code: CodeCell | None
    stdout: str


def page_of(store: Store, flt: ArtifactFilter, page: int, per_page: int) -> GalleryPage:
    """Artifacts of one gallery page, newest first."""
    page = max(page, 1)
    found, total = store.artifacts(
        ArtifactFilter(**{**flt.__dict__, "limit": per_page, "offset": (page - 1) * per_page})
    )
    return GalleryPage(found, total, page, max(1, -(-total // per_page)))


def thumb_for(data_dir: Path, artifact: Artifact) -> Path | None:
    """A cached thumbnail of an image artifact, or None."""
    if not (filekinds.is_image(artifact.mime_type) or filekinds.is_image(artifact.filename)):
        return None
    return thumbnail(data_dir / artifact.path, data_dir / "thumbs")


def icon_for(artifact: Artifact) -> str:
    """The Material icon for an artifact without a thumbnail, by its kind."""
    return filekinds.icon(artifact.filename, artifact.mime_type)


def lineage(store: Store, artifact: Artifact) -> Lineage:
    """The question and code cell behind an artifact."""
    items = [s.item for s in store.items(artifact.run_id) if s.turn_idx == artifact.turn_idx]
    code = next((i for i in items if isinstance(i, CodeCell) and i.tool_use_id == artifact.tool_use_id), None)
    out = next((i for i in items if isinstance(i, Output) and i.tool_use_id == artifact.tool_use_id), None)
    return Lineage(artifact, artifact.question, code, out.stdout if out else "")


def zip_bytes(data_dir: Path, artifacts: list[Artifact]) -> bytes:
    """The chosen artifacts as one zip, names made unique."""
    buf = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for art in artifacts:
            path = data_dir / art.path
            if not path.exists():
                continue
            name = art.filename
            stem, dot, ext = name.rpartition(".")
            n = 1
            while name in seen:
                n += 1
                name = f"{stem}-{n}.{ext}" if dot else f"{art.filename}-{n}"
            seen.add(name)
            zf.write(path, arcname=name)
    return buf.getvalue()


def delete(store: Store, data_dir: Path, artifact: Artifact) -> None:
    """Remove an artifact's file and its gallery entry (the transcript notes it is gone)."""
    (data_dir / artifact.path).unlink(missing_ok=True)
    store.delete_artifact(artifact.id)
