"""Gallery thumbnails and display-size copies of images, decoded only in the sandbox and cached.

Images come from uploads and from code a model wrote, so their pixels are decoded in a sandbox worker within
the pixel limit of lib.limits; the server gets back a small PNG (or a JPEG thumbnail of a photo), never the
original bytes. Thumbnails are kept on disk, display copies in the server's cache of decoded results.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import ExifTags, Image, ImageOps

from lib.files import decoded, kinds, sandbox
from lib.limits import LIMITS

CACHE_SUFFIXES = (".png", ".jpg")
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Picture:
    """An image re-encoded no larger than asked, and the original's size in pixels."""

    data: bytes = field(repr=False)
    format: str  # "PNG" or "JPEG"
    width: int
    height: int

    @property
    def suffix(self) -> str:
        """The file suffix of `data`."""
        return ".jpg" if self.format == "JPEG" else ".png"


@sandbox.task
def picture(path: Path, max_px: int, photos_as_jpeg: bool = False) -> Picture:
    """The image at `path` no larger than max_px on its longest side, always re-encoded: as PNG, or a JPEG source
    as JPEG when `photos_as_jpeg`. Raises ValueError saying why not (too many pixels, not an image)."""
    Image.MAX_IMAGE_PIXELS = LIMITS.image_pixels
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > LIMITS.image_pixels:
                raise ValueError(f"it is {width:,} × {height:,} pixels, more than the {LIMITS.image_pixels:,} shown")
            # JPEG sources are photos: JPEG keeps them several times smaller than PNG, and they have no alpha to
            # lose. Charts and screenshots stay PNG, where flat colours and text stay crisp and alpha survives.
            fmt = "JPEG" if photos_as_jpeg and image.format == "JPEG" else "PNG"
            return Picture(downscaled(image, max_px, fmt), fmt, width, height)
    except Image.DecompressionBombError:
        raise ValueError(f"it has more than the {LIMITS.image_pixels:,} pixels shown") from None
    except (OSError, SyntaxError, EOFError) as exc:  # Pillow's ways of saying the bytes are no image it reads
        raise ValueError(f"it is not a readable image ({type(exc).__name__})") from None


def downscaled(image: Image.Image, max_px: int, fmt: str, max_width: int | None = None) -> bytes:
    """An opened image shrunk to fit max_px (and `max_width`) while decoding as little as the format allows,
    turned upright, encoded."""
    box = (min(max_px, max_width or max_px), max_px)
    if image.getexif().get(ExifTags.Base.Orientation, 1) in (5, 6, 7, 8):  # drawn turned a quarter
        box = (box[1], box[0])
    image.draft("RGB", (box[0] * 2, box[1] * 2))  # JPEG: decode at a fraction of the size
    image.thumbnail(box)
    return _encode(ImageOps.exif_transpose(image), fmt)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """Encode as PNG or JPEG, converting modes that format cannot store."""
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if fmt == "PNG" and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def display(path: Path) -> decoded.Decoded[Picture]:
    """A PNG of the image at `path` for a page (at most the display size), or why there is none."""
    return decoded.of_file(picture, path, LIMITS.display_px)


def cache_key(src: Path, max_px: int) -> str:
    """sha1 of the source's absolute path, byte size, mtime and the thumbnail size."""
    stat = src.stat()
    raw = f"{src.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_px}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def thumbnail(src: Path, cache_dir: Path, max_px: int = LIMITS.thumb_px) -> Path | None:
    """Path of a cached thumbnail of `src` no larger than max_px; None for non-images, broken or too large ones."""
    if not kinds.is_image(str(src)):
        return None
    try:
        key = cache_key(src, max_px)
    except OSError:
        return None
    for suffix in CACHE_SUFFIXES:
        cached = cache_dir / f"{key}{suffix}"
        if cached.is_file():
            return cached
    made = decoded.of_file(picture, src, max_px, True)
    if made.value is None:
        return None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / f"{key}{made.value.suffix}"
        _write_atomically(target, made.value.data)
    except OSError:
        return None
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    """Write via a temp file and rename, so a concurrent reader never sees half a thumbnail."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
