"""The file library: checked uploads with local copies, merged with what the Files API lists."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anthropic

from lib.errors import AppError, NotAllowedError, describe
from lib.files import api, kinds, uploads
from lib.files.api import RemoteFile
from lib.files.preview import Preview, Refused, TablePreview
from lib.files.uploads import Accepted
from lib.storage import blobs
from lib.storage.records import FileRecord
from lib.storage.store import Store


@dataclass(frozen=True)
class LibraryEntry:
    """One row of the library table."""

    id: str
    filename: str
    kind: str
    mime_type: str
    size_bytes: int
    uploaded_at: datetime
    downloadable: bool
    status: str  # "ok", "missing remotely", "remote only", "generated", "unchecked"
    local_path: str
    expires_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Whether the file can be attached to an analysis."""
        return self.status in ("ok", "unchecked", "remote only") and not self.downloadable

    @property
    def generated(self) -> bool:
        """Whether code execution made the file (the API lets only those be downloaded): an output of a run, not
        an input of the library."""
        return self.status == "generated"

    @property
    def download_from(self) -> str:
        """Where its Download button gets the bytes: the local copy, the Files API, or nowhere."""
        if self.local_path:
            return "local copy"
        return "Files API" if self.downloadable else "not available"


@dataclass(frozen=True)
class UploadResult:
    """What happened to one accepted file."""

    filename: str
    record: FileRecord | None
    reused: bool = False
    error: AppError | None = None


EXPIRY_CHOICES = {
    0: "until I delete it",
    86_400: "1 day",
    7 * 86_400: "7 days",
    30 * 86_400: "30 days",
    90 * 86_400: "90 days",
}


def upload_accepted(
    client: anthropic.Anthropic,
    store: Store,
    data_dir: Path,
    accepted: Accepted,
    expires_in_seconds: int = 0,
) -> UploadResult:
    """Keep the checked copy of one file (moved, never written again) with its profile, then upload it (or reuse
    an identical one already uploaded, whose profile it completes).

    The copy is kept first, so a local failure sends nothing; a failed upload puts it back where it was, so the
    same file can be uploaded again without being checked again."""
    staged = Path(data_dir) / accepted.rel if accepted.rel else None
    if staged is None or not staged.is_file():
        problem = AppError(
            "Not checked",
            f"{accepted.name} is no longer waiting to be uploaded (it was uploaded or removed meanwhile).",
            "Add the file again.",
        )
        return UploadResult(accepted.name, None, error=problem)
    same = store.file_by_hash(accepted.sha256)
    if same is not None and same.filename == accepted.name:
        if api.exists(client, same.id) is not False:
            if same.profile is None and accepted.profile is not None:
                store.set_file_profile(same.id, accepted.profile)
            staged.unlink(missing_ok=True)
            return UploadResult(accepted.name, store.file(same.id) or same, reused=True)
        store.flag_remote_missing(same.id)  # deleted or expired remotely (or another API): upload it again
    rel = f"uploads/{kinds.disk_name(uuid.uuid4().hex, accepted.name)}"
    local = Path(data_dir) / rel
    kept = False
    try:
        local.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, local)
        kept = True
        blobs.keep(data_dir, rel)
        with open(local, "rb") as handle:
            remote = api.upload(client, accepted.name, handle, accepted.mime, expires_in_seconds or None)
    except Exception as exc:  # noqa: BLE001 - the disk, the object store or the API: each says what went wrong
        with contextlib.suppress(Exception):  # the failure to report is the one above
            if kept:
                os.replace(local, staged)
            blobs.delete(data_dir, rel)
        return UploadResult(accepted.name, None, error=describe(exc))
    record = FileRecord(
        id=remote.id,
        filename=remote.filename or accepted.name,
        mime_type=accepted.mime,
        size_bytes=accepted.size,
        sha256=accepted.sha256,
        kind=accepted.kind,
        local_path=rel,
        created_at=time.time(),
        profile=accepted.profile,
    )
    store.add_file(record)
    return UploadResult(accepted.name, record)


def catalogue(store: Store, remote: list[RemoteFile] | None) -> list[LibraryEntry]:
    """The store owner's library: their own uploads and the files their runs generated; an admin also sees the
    remote files nobody here knows (neither any user's upload nor a file any user's run generated)."""
    if remote is None:
        return merge(store.files(), remote, [])
    generated = store.generated_file_ids(r.id for r in remote)
    listed = [r for r in remote if r.id in generated]
    if store.admin:
        known = store.known_file_ids(r.id for r in remote)
        listed += [r for r in remote if r.id not in known]
    return merge(store.files(), remote, listed)


def merge(
    local: list[FileRecord], remote: list[RemoteFile] | None, remote_only: list[RemoteFile] | None = None
) -> list[LibraryEntry]:
    """Local catalogue and remote list as one table; `remote` None means it could not be fetched.

    `remote_only`: the remote files to list that no catalogue knows (default: every remote file not in `local`)."""
    remote_by_id = {r.id: r for r in remote or []}
    rows = []
    for rec in local:
        r = remote_by_id.get(rec.id)
        status = "unchecked" if remote is None else ("ok" if r else "missing remotely")
        rows.append(
            LibraryEntry(
                id=rec.id,
                filename=rec.filename,
                kind=rec.kind,
                mime_type=rec.mime_type,
                size_bytes=rec.size_bytes,
                uploaded_at=datetime.fromtimestamp(rec.created_at, tz=UTC),
                downloadable=bool(r and r.downloadable),
                status=status,
                local_path=rec.local_path,
                expires_at=r.expires_at if r else None,
            )
        )
    known = {rec.id for rec in local}
    for r in remote or [] if remote_only is None else remote_only:
        if r.id not in known:
            rows.append(
                LibraryEntry(
                    id=r.id,
                    filename=r.filename,
                    kind=_kind(r),
                    mime_type=r.mime_type,
                    size_bytes=r.size_bytes,
                    uploaded_at=r.created_at,
                    downloadable=r.downloadable,
                    status="generated" if r.downloadable else "remote only",
                    local_path="",
                    expires_at=r.expires_at,
                )
            )
    return sorted(rows, key=lambda e: e.uploaded_at, reverse=True)


def _kind(remote: RemoteFile) -> str:
    """The kind of a file only the API lists: 'generated' for Claude's files, else the registry's key."""
    if remote.downloadable:
        return "generated"
    kind = kinds.for_name_or_mime(remote.filename, remote.mime_type)
    return kind.key if kind else (kinds.extension_of(remote.filename).lstrip(".") or remote.mime_type)


def delete(client: anthropic.Anthropic | None, store: Store, data_dir: Path, file_ids: list[str]) -> list[str]:
    """Delete files of the store owner's library (their uploads and the files their runs generated; an admin's: also
    remote files nobody here knows) remotely and from the catalogue and disk; returns messages for those that
    failed or are not theirs."""
    problems = []
    for file_id in file_ids:
        rec = store.file(file_id)
        if rec is None and not _reachable(store, file_id):
            problems.append(f"{file_id}: not in your library, so it was left alone.")
            continue
        try:
            if client is not None:
                api.delete(client, file_id)
        except AppError as err:
            problems.append(f"{rec.filename if rec else file_id}: {err.message} {err.hint}")
            continue
        if rec is not None:
            if rec.local_path:
                blobs.delete(data_dir, rec.local_path)
            store.remove_file(file_id)
    return problems


def file_bytes(client: anthropic.Anthropic | None, store: Store, data_dir: Path, entry: LibraryEntry) -> bytes:
    """The bytes of a file of the store owner's library (or, for an admin, a remote file nobody here knows): its
    local copy as the catalogue has it, or a download when the API allows it."""
    record = store.file(entry.id)
    if record is None and not _reachable(store, entry.id):
        raise NotAllowedError(f"{entry.filename} is not in your library.", "Choose one of your own files.")
    local = record.local_path if record else ""  # never a path the caller gave
    if local and blobs.path(data_dir, local).exists():
        return blobs.path(data_dir, local).read_bytes()
    if client is None or not entry.downloadable:
        raise AppError(
            "Not available",
            f"{entry.filename} has no local copy and the API does not allow downloading it.",
            "Only files made by Claude's code can be downloaded from the API.",
        )
    dest = data_dir / "downloads" / kinds.disk_name(entry.id, entry.filename)
    api.download(client, entry.id, dest)
    return dest.read_bytes()


def stored_preview(data_dir: Path, record: FileRecord) -> Preview | AppError:
    """The preview and profile of a library file: a table's as kept since its upload, other files' from the local
    copy, parsed in the limited worker as on upload; an AppError says why there is none."""
    if record.profile is not None:
        return TablePreview.kept(record.profile)
    path = blobs.path(data_dir, record.local_path) if record.local_path else None
    if path is None or not path.is_file():
        return AppError("No preview", f"{record.filename} has no local copy.", "Upload it again to preview it.")
    try:
        preview = uploads.preview_path(path, record.filename, record.kind)
    except Refused as refused:
        return AppError("No preview", refused.reason, refused.hint)
    except Exception as exc:  # noqa: BLE001 - includes the worker's limits; the page must stay up
        return AppError(
            "No preview", f"{record.filename} could not be read: {exc}.", "Upload a smaller or simpler copy."
        )
    return preview


def _reachable(store: Store, file_id: str) -> bool:
    """Whether the owner may act on a remote file outside their catalogue: one their runs generated, or (admins
    only) one nobody here knows."""
    return bool(store.generated_file_ids([file_id])) or _unknown_to_all(store, file_id)


def _unknown_to_all(store: Store, file_id: str) -> bool:
    """Whether an admin is acting on a remote file nobody here knows (only admins may): no user uploaded it and
    no user's run generated it."""
    return store.admin and not store.known_file_ids([file_id])


def save_notes(store: Store, file_id: str, notes: str) -> None:
    """The analyst's notes on one of their files, sent to Claude with every analysis of it."""
    if not store.set_file_notes(file_id, notes):
        raise NotAllowedError("That file is not in your library.", "Choose one of your own files on the Files page.")
