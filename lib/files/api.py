"""Files API: upload, list, metadata, download to disk, delete; SDK errors become AppErrors."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import anthropic

from lib.errors import describe


@dataclass(frozen=True)
class RemoteFile:
    """A file as the Files API describes it."""

    id: str
    filename: str
    mime_type: str
    size_bytes: int
    created_at: datetime
    downloadable: bool
    expires_at: datetime | None


def _remote(meta: Any) -> RemoteFile:
    return RemoteFile(
        id=meta.id,
        filename=meta.filename,
        mime_type=meta.mime_type,
        size_bytes=meta.size_bytes,
        created_at=meta.created_at,
        downloadable=bool(getattr(meta, "downloadable", False)),
        expires_at=getattr(meta, "expires_at", None),
    )


def upload(
    client: anthropic.Anthropic, filename: str, data: bytes | BinaryIO, mime: str, expires_in_seconds: int | None = None
) -> RemoteFile:
    """Upload one file with an explicit name and type, optionally deleted by the API after a while."""
    extra = {"expires_in_seconds": expires_in_seconds} if expires_in_seconds else {}
    try:
        return _remote(client.files.upload(file=(filename, data, mime), **extra))
    except anthropic.APIError as exc:
        raise describe(exc) from exc


def list_all(client: anthropic.Anthropic, page_size: int = 100) -> list[RemoteFile]:
    """Every file in the workspace, following next_page to the end."""
    try:
        # a page load waits on this list, so an unreachable API must fail in seconds, not minutes
        quick = client.with_options(timeout=anthropic.Timeout(30.0, connect=5.0))
        return [_remote(meta) for meta in quick.files.list(limit=page_size)]
    except anthropic.APIError as exc:
        raise describe(exc) from exc


def metadata(client: anthropic.Anthropic, file_id: str) -> RemoteFile:
    """One file's metadata."""
    try:
        return _remote(client.files.retrieve_metadata(file_id))
    except anthropic.APIError as exc:
        raise describe(exc) from exc


def exists(client: anthropic.Anthropic, file_id: str) -> bool | None:
    """Whether the API still has a file: False only when it says it has not, None when it could not be asked."""
    try:
        client.with_options(timeout=anthropic.Timeout(30.0, connect=5.0)).files.retrieve_metadata(file_id)
    except anthropic.NotFoundError:
        return False
    except anthropic.APIError:
        return None
    return True


def download(client: anthropic.Anthropic, file_id: str, dest: Path) -> int:
    """Stream a file's bytes to `dest` (written atomically); returns the byte count.

    Any failure (an HTTP error, a body cut mid-way, a timeout) raises AppError and leaves nothing at `dest`.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out, client.files.with_streaming_response.download(file_id) as response:
            for chunk in response.iter_bytes():
                out.write(chunk)
                size += len(chunk)
        os.replace(tmp, dest)
    except Exception as exc:
        Path(tmp).unlink(missing_ok=True)
        raise describe(exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def delete(client: anthropic.Anthropic, file_id: str) -> None:
    """Delete a file; one already gone counts as deleted."""
    try:
        client.files.delete(file_id)
    except anthropic.NotFoundError:
        return
    except anthropic.APIError as exc:
        raise describe(exc) from exc
