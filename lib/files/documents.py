"""What is shown of files that are not tables: images (checked, then decoded once into the PNG a page shows),
PDF page counts and the first lines of text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lib.files import kinds, thumbs
from lib.files.checks import Refused, format_size
from lib.files.delimited import text_sample
from lib.files.encodings import detect_encoding
from lib.limits import LIMITS

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class ImagePreview:
    """Pixel size, colour mode and format of an image, and a PNG of it no larger than the display size."""

    width: int
    height: int
    mode: str
    format: str
    note: str = ""
    display: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class DocumentPreview:
    """What is known about a non-table, non-image file (or one that could not be shown as a table)."""

    kind: str
    size: int
    text_head: str
    pages: int | None
    note: str = ""


def image_preview(path: Path, name: str, kind: str, size: int) -> ImagePreview:
    """Read the header, refuse decompression bombs by pixel count, then verify, and decode once into the PNG the
    page shows (so the server never decodes the upload)."""
    from PIL import Image

    label = kinds.get(kind).label  # type: ignore[union-attr]
    redo = f"Open it in an image viewer and export it again as {label}, or take the screenshot again."
    Image.MAX_IMAGE_PIXELS = LIMITS.image_pixels
    try:
        with Image.open(path) as image:
            width, height, mode, fmt = image.width, image.height, image.mode, image.format or label
            if width * height > LIMITS.image_pixels:
                raise _too_many_pixels(name, width, height)
            image.verify()
        # verify() does not decode pixel data (and checks little for JPEG), so decode once too.
        with Image.open(path) as image:
            display = thumbs.downscaled(image, LIMITS.display_px, "PNG", LIMITS.preview_width_px)
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, None) from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
        raise Refused(f"{name} is a broken image (damaged or cut short) and can't be opened.", redo) from None
    return ImagePreview(width, height, mode, fmt, f"{width} × {height} px, {mode}, {format_size(size)}.", display)


def _too_many_pixels(name: str, width: int | None, height: int | None) -> Refused:
    """Refusal for an image whose pixel count is over the decompression-bomb limit."""
    dims = f" ({width:,} × {height:,} pixels)" if width and height else ""
    return Refused(
        f"{name} is too large an image{dims}; the limit is {LIMITS.image_pixels:,} pixels.",
        "Resize the image (for example to under 8,000 pixels on the longest side) and upload it again.",
    )


def pdf_preview(path: Path, size: int) -> DocumentPreview:
    """Page count by counting page objects, which works for PDFs without compressed object streams."""
    pages = 0
    with open(path, "rb") as handle:
        tail = b""
        while block := handle.read(8 << 20):
            chunk = tail + block
            pages += len(_PDF_PAGE.findall(chunk[: len(chunk) - 64] if len(block) == 8 << 20 else chunk))
            tail = chunk[-64:] if len(block) == 8 << 20 else b""
    if pages:
        return DocumentPreview(
            "pdf", size, "", pages, f"PDF, {pages} page{'s' if pages != 1 else ''}, {format_size(size)}."
        )
    return DocumentPreview(
        "pdf", size, "", None, f"PDF, {format_size(size)}; page count not available without a PDF reader."
    )


def text_head(head: bytes) -> str:
    """The first lines of a text file, bounded in lines and characters."""
    lines = text_sample(head, detect_encoding(head)).splitlines()[: LIMITS.text_head_lines]
    return "\n".join(lines)[: LIMITS.text_head_chars]


def line_note(path: Path, size: int) -> str:
    """'123 lines, 4.5 KB.'"""
    lines, last = 0, b""
    with open(path, "rb") as handle:
        while block := handle.read(8 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    lines += 0 if size == 0 or last == b"\n" else 1
    return f"{lines:,} line{'s' if lines != 1 else ''}, {format_size(size)}."
