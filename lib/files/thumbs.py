"""Gallery thumbnails, made once and cached on disk, and downscaling of images for display."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from lib.files import kinds

CACHE_SUFFIXES = (".png", ".jpg")
JPEG_QUALITY = 85
# Thumbnails are made in the server process, so an image over this many pixels is not decoded at all.
MAX_THUMB_SOURCE_PIXELS = 50_000_000


def cache_key(src: Path, max_px: int) -> str:
    """sha1 of the source's absolute path, byte size, mtime and the thumbnail size."""
    stat = src.stat()
    raw = f"{src.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_px}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def thumbnail(src: Path, cache_dir: Path, max_px: int = 360) -> Path | None:
    """Path of a cached thumbnail of `src` no larger than max_px; None for non-images or broken images."""
    if not kinds.is_image(str(src)):
        return None
    try:
        key = cache_key(src, max_px)
        for suffix in CACHE_SUFFIXES:
            cached = cache_dir / f"{key}{suffix}"
            if cached.is_file():
                return cached
        with Image.open(src) as image:
            if image.width * image.height > MAX_THUMB_SOURCE_PIXELS:
                return None
            is_photo = image.format == "JPEG"
            image.draft("RGB", (max_px * 2, max_px * 2))
            small = ImageOps.exif_transpose(image)
            small.thumbnail((max_px, max_px))
            # JPEG sources are photos: JPEG keeps them several times smaller than PNG, and
            # they have no alpha to lose. Charts and screenshots (PNG etc.) stay PNG, where
            # flat colours and text stay crisp and alpha survives.
            suffix = ".jpg" if is_photo else ".png"
            encoded = _encode(small, "JPEG" if is_photo else "PNG")
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / f"{key}{suffix}"
        _write_atomically(target, encoded)
        return target
    # Pillow raises many exception types for bad input; a gallery must never fail on one file.
    except Exception:  # noqa: BLE001
        return None


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


def downscale_for_display(data: bytes, max_px: int = 1400) -> bytes:
    """The image bytes unchanged if they fit in max_px, else a PNG downscale; unreadable bytes come back as given."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_THUMB_SOURCE_PIXELS:
                return data
            if max(image.size) <= max_px:
                return data
            image.draft("RGB", (max_px * 2, max_px * 2))
            small = ImageOps.exif_transpose(image)
            small.thumbnail((max_px, max_px))
            return _encode(small, "PNG")
    # Display code shows or rejects the original; it must not crash here.
    except Exception:  # noqa: BLE001
        return data
