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

from lib.errors import AppError, describe
from lib.files import api, kinds
from lib.files.api import RemoteFile
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
    status: str  # "ok", "missing remotely", "remote only", "unchecked"
    local_path: str
    expires_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Whether the file can be attached to an analysis."""
        return self.status in ("ok", "unchecked", "remote only") and not self.downloadable


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
    """The store owner's library: their own files; an admin also sees remote files nobody here uploaded."""
    unknown: list[RemoteFile] = []
    if store.admin and remote is not None:
        known = store.known_file_ids()
        unknown = [r for r in remote if r.id not in known]
    return merge(store.files(), remote, unknown)


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
                    status="remote only",
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
    """Delete files remotely and from the catalogue and disk; returns messages for those that failed."""
    problems = []
    for file_id in file_ids:
        rec = store.file(file_id)
        if rec is None and not _unknown_to_all(store, file_id):
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
    """A file's bytes: the local copy, or a download when the API allows it."""
    if store.file(entry.id) is None and not _unknown_to_all(store, entry.id):
        raise AppError("Not available", f"{entry.filename} is not in your library.", "Choose one of your own files.")
    if entry.local_path and blobs.path(data_dir, entry.local_path).exists():
        return blobs.path(data_dir, entry.local_path).read_bytes()
    if client is None or not entry.downloadable:
        raise AppError(
            "Not available",
            f"{entry.filename} has no local copy and the API does not allow downloading it.",
            "Only files made by Claude's code can be downloaded from the API.",
        )
    dest = data_dir / "downloads" / kinds.disk_name(entry.id, entry.filename)
    api.download(client, entry.id, dest)
    return dest.read_bytes()


def _unknown_to_all(store: Store, file_id: str) -> bool:
    """Whether an admin is acting on a remote file that no user's catalogue holds (only admins may)."""
    return store.admin and not store.catalogued_by_anyone(file_id)


def save_notes(store: Store, file_id: str, notes: str) -> None:
    """The analyst's notes on one of their files, sent to Claude with every analysis of it."""
    store.set_file_notes(file_id, notes)
