"""Where files live: uploads' local copies, generated files and thumbnails, by path relative to the data directory.

`ANALYST_BLOB_URL` unset: the data directory is the only home, as it always was. `s3://bucket/prefix` (endpoint,
region and credentials from the environment, as boto3 reads them): the object store is the home every replica
and worker shares, and the data directory is this machine's cache of it. Copies in both directions stream in
chunks (fsspec `put_file`/`get_file`); nothing is read whole into memory.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import fsspec

_remotes: dict[str, tuple[Any, str]] = {}  # data directory -> (filesystem, root) of its object store
_lock = threading.Lock()


def configure(data_dir: Path, blob_url: str) -> None:
    """Use `blob_url` as the home of the files of `data_dir` ("" for the data directory itself)."""
    key = str(Path(data_dir))
    with _lock:
        if not blob_url:
            _remotes.pop(key, None)
            return
        if key in _remotes and _remotes[key][1] == blob_url.rstrip("/"):
            return
        _remotes[key] = (_filesystem(blob_url), blob_url.rstrip("/"))


def _filesystem(blob_url: str) -> Any:
    protocol = blob_url.split("://", 1)[0] if "://" in blob_url else "file"
    options: dict[str, Any] = {}
    if protocol in ("s3", "s3a"):
        # botocore reads AWS_ENDPOINT_URL itself from some versions on; passing it keeps older s3fs builds right
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
        options["use_listings_cache"] = False
    return fsspec.filesystem(protocol, **options)


def _remote(data_dir: Path) -> tuple[Any, str] | None:
    with _lock:
        return _remotes.get(str(Path(data_dir)))


def shared(data_dir: Path) -> bool:
    """Whether the files of `data_dir` live in an object store."""
    return _remote(data_dir) is not None


def keep(data_dir: Path, rel: str) -> None:
    """A file just written under the data directory goes to its shared home (no-op without one)."""
    remote = _remote(data_dir)
    if remote is None or not rel:
        return
    fs, root = remote
    fs.put_file(str(Path(data_dir) / rel), f"{root}/{rel}")


def path(data_dir: Path, rel: str) -> Path:
    """A local path to read the file from: the data directory's copy, fetched from the shared home first when
    this machine has none. The path may not exist when the file is gone everywhere."""
    local = Path(data_dir) / rel
    remote = _remote(data_dir)
    if remote is None or local.exists() or not rel:
        return local
    fs, root = remote
    local.parent.mkdir(parents=True, exist_ok=True)
    part = local.with_name(f".{local.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        fs.get_file(f"{root}/{rel}", str(part))
        os.replace(part, local)  # whole or not at all, even with another reader fetching the same file
    except FileNotFoundError:
        pass
    finally:
        part.unlink(missing_ok=True)
    return local


def delete(data_dir: Path, rel: str) -> None:
    """Remove a file from the data directory and from its shared home."""
    if not rel:
        return
    (Path(data_dir) / rel).unlink(missing_ok=True)
    remote = _remote(data_dir)
    if remote is not None:
        fs, root = remote
        try:
            fs.rm_file(f"{root}/{rel}")
        except FileNotFoundError:
            pass
