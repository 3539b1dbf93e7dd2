"""Downloading a file the code generated, kept under the data directory."""

from __future__ import annotations

from pathlib import Path

import anthropic

from lib.errors import AppError, describe
from lib.files import api, kinds
from lib.transcript import GeneratedFile


def fetch_file(
    client: anthropic.Anthropic, file_id: str, tool_use_id: str, artifacts_dir: Path, data_dir: Path
) -> GeneratedFile:
    """Download one generated file under `artifacts_dir`; any failure is kept on the item, nothing half-written."""
    item = GeneratedFile(file_id=file_id, tool_use_id=tool_use_id)
    try:
        meta = api.metadata(client, file_id)
        item.filename, item.mime_type, item.size_bytes = meta.filename, meta.mime_type, meta.size_bytes
        if not meta.downloadable:
            item.error = "The Files API marks this file as not downloadable."
            return item
        dest = artifacts_dir / kinds.disk_name(file_id, meta.filename)
        item.size_bytes = api.download(client, file_id, dest)
        item.path = str(dest.relative_to(data_dir))
    except (AppError, OSError) as exc:
        err = describe(exc)
        item.error = f"{err.message} {err.hint}".strip()
        item.retryable = True
    return item
