"""In-memory Files API store: metadata, bytes, expiry, listing and mime detection."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lib.files import kinds

from .errors import ApiError
from .ids import Clock, IdFactory, rfc3339

_BAD_FILENAME_CHARS = set('<>:"|?*\\/') | {chr(i) for i in range(32)}


def detect_mime(filename: str | None, data: bytes) -> str:
    """A MIME type as the app's file-kind registry tells it: magic bytes, then the extension, then text or binary."""
    return kinds.mime_for(filename or "", data)


def clean_filename(raw: str | None, data: bytes) -> str:
    """Apply the API's filename rules; 400 on a bad name, `unnamed.<ext>` when missing."""
    if not raw:
        kind = kinds.for_mime(detect_mime(None, data))
        return "unnamed" + (kind.extension if kind else ".bin")
    name = raw.rsplit("/", 1)[-1]
    if not 1 <= len(name) <= 255:
        raise ApiError(400, "Filename must be between 1 and 255 characters.")
    if any(ch in _BAD_FILENAME_CHARS for ch in name):
        raise ApiError(400, f"Filename `{name}` contains invalid characters.")
    return name


@dataclass
class StoredFile:
    """One stored file: metadata plus its bytes."""

    id: str
    filename: str
    mime_type: str
    data: bytes
    created: float
    downloadable: bool
    expires: float | None
    seq: int

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def created_at(self) -> str:
        return rfc3339(self.created)

    @property
    def expires_at(self) -> str | None:
        return rfc3339(self.expires) if self.expires is not None else None

    def is_expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires

    def metadata(self) -> dict[str, Any]:
        """The FileMetadata JSON object."""
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": self.size_bytes,
            "created_at": self.created_at,
            "downloadable": self.downloadable,
            "expires_at": self.expires_at,
        }


class FileStore(Mapping[str, StoredFile]):
    """Thread-safe file store; read-only Mapping view of id -> StoredFile."""

    def __init__(self, ids: IdFactory, clock: Clock) -> None:
        self._ids = ids
        self._clock = clock
        self._files: dict[str, StoredFile] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def __getitem__(self, file_id: str) -> StoredFile:
        with self._lock:
            return self._files[file_id]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._files))

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)

    def add(
        self,
        filename: str,
        data: bytes,
        *,
        downloadable: bool,
        mime_type: str | None = None,
        expires_in: float | None = None,
    ) -> StoredFile:
        """Store bytes and return the new file."""
        now = self._clock()
        with self._lock:
            self._seq += 1
            stored = StoredFile(
                id=self._ids.file(),
                filename=filename,
                mime_type=mime_type or detect_mime(filename, data),
                data=data,
                created=now,
                downloadable=downloadable,
                expires=now + expires_in if expires_in is not None else None,
                seq=self._seq,
            )
            self._files[stored.id] = stored
            return stored

    def require(self, file_id: str) -> StoredFile:
        """The file, or 404 not_found_error."""
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise ApiError(404, f"File `{file_id}` not found.")
        return stored

    def content(self, file_id: str) -> StoredFile:
        """The file if its bytes may be downloaded; else the API's 400/404."""
        stored = self.require(file_id)
        if stored.is_expired(self._clock()):
            raise ApiError(404, f"File `{file_id}` has expired.", error_code="file_expired")
        if not stored.downloadable:
            raise ApiError(
                400,
                f"File `{file_id}` is not downloadable. Only files created by the code execution tool"
                " or skills can be downloaded.",
                error_code="file_not_downloadable",
            )
        return stored

    def delete(self, file_id: str) -> None:
        """Remove a file or 404."""
        self.require(file_id)
        with self._lock:
            self._files.pop(file_id, None)

    def expire(self, file_id: str) -> None:
        """Make a file expired now."""
        stored = self.require(file_id)
        stored.expires = self._clock() - 1

    def list_page(self, limit: int, page: str | None) -> tuple[list[StoredFile], str | None]:
        """One page newest first, and the next page token (None at the end)."""
        with self._lock:
            ordered = sorted(self._files.values(), key=lambda f: f.seq, reverse=True)
        if page:
            cursor = _decode_page(page)
            ordered = [f for f in ordered if f.seq < cursor]
        chunk = ordered[:limit]
        more = len(ordered) > limit
        return chunk, _encode_page(chunk[-1].seq) if more and chunk else None

    def by_ids(self, ids: list[str]) -> list[StoredFile]:
        """Known files among `ids`, newest first; unknown ids are dropped."""
        with self._lock:
            found = [self._files[i] for i in dict.fromkeys(ids) if i in self._files]
        return sorted(found, key=lambda f: f.seq, reverse=True)


def _encode_page(seq: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"after:{seq}".encode()).decode().rstrip("=")


def _decode_page(token: str) -> int:
    try:
        raw = token.removeprefix("page_")
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        return int(decoded.split(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise ApiError(400, "Invalid page token.") from None
