"""The /v1/files endpoints over a FileStore."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ApiError, parse_limit
from .files import FileStore, clean_filename

MIN_EXPIRY, MAX_EXPIRY = 3600, 7_776_000


@dataclass
class Part:
    """One multipart form part."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Raw:
    """A non-JSON response body."""

    data: bytes
    content_type: str
    filename: str | None = None


def upload(store: FileStore, parts: dict[str, Part], max_bytes: int) -> dict[str, Any]:
    """POST /v1/files, from the parsed form parts."""
    part = parts.get("file")
    if part is None:
        raise ApiError(400, "file: Field required")
    if len(part.data) > max_bytes:
        raise ApiError(413, f"File exceeds the maximum size of {max_bytes} bytes.")
    if not part.data:
        raise ApiError(400, "file: the uploaded file is empty.")
    expires_in: float | None = None
    if "expires_in_seconds" in parts:
        try:
            expires_in = int(parts["expires_in_seconds"].data.decode().strip())
        except ValueError:
            raise ApiError(400, "expires_in_seconds: Input should be a valid integer") from None
        if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
            raise ApiError(400, f"expires_in_seconds: must be between {MIN_EXPIRY} and {MAX_EXPIRY}")
    filename = clean_filename(part.filename, part.data)
    return store.add(filename, part.data, downloadable=False, expires_in=expires_in).metadata()


def list_files(store: FileStore, query: dict[str, list[str]]) -> dict[str, Any]:
    """GET /v1/files: newest first, `page` cursors, or an `ids[]` filter."""
    if "before_id" in query or "after_id" in query:
        raise ApiError(400, "`before_id` and `after_id` are not supported; use `page` with `next_page`.")
    ids = query.get("ids[]", []) + query.get("ids", [])
    if ids:
        if "page" in query or "limit" in query:
            raise ApiError(400, "`ids` cannot be combined with `page` or `limit`.")
        if len(ids) > 100:
            raise ApiError(400, "ids: at most 100 ids are allowed.")
        return {"data": [f.metadata() for f in store.by_ids(ids)], "next_page": None}
    limit = parse_limit(query)
    page, next_page = store.list_page(limit, query.get("page", [None])[0])
    return {"data": [f.metadata() for f in page], "next_page": next_page}


def retrieve(store: FileStore, file_id: str) -> dict[str, Any]:
    """GET /v1/files/{id}."""
    return store.require(file_id).metadata()


def download(store: FileStore, file_id: str) -> Raw:
    """GET /v1/files/{id}/content."""
    stored = store.content(file_id)
    return Raw(stored.data, stored.mime_type, stored.filename)


def delete(store: FileStore, file_id: str) -> dict[str, Any]:
    """DELETE /v1/files/{id}."""
    store.delete(file_id)
    return {"id": file_id, "type": "file_deleted"}
