"""A small multipart/form-data parser (the stdlib no longer ships one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ApiError


@dataclass
class Part:
    """One form part."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _param(header: str, key: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{key}="((?:[^"\\]|\\.)*)"', header, re.IGNORECASE)
    if match:
        return re.sub(r"\\(.)", r"\1", match.group(1))
    match = re.search(rf"(?:^|;)\s*{key}=([^;\s]+)", header, re.IGNORECASE)
    return match.group(1) if match else None


def parse(content_type: str, body: bytes) -> dict[str, Part]:
    """Parts by name; 400 when the body is not valid multipart."""
    boundary = _param(content_type, "boundary")
    if not content_type.lower().startswith("multipart/form-data") or not boundary:
        raise ApiError(400, "Expected a multipart/form-data body with a `file` part.")
    parts: dict[str, Part] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _param(disposition, "name")
        if name is None:
            continue
        parts[name] = Part(
            name, _param(disposition, "filename"), headers.get("content-type"), data.removesuffix(b"\r\n")
        )
    return parts
