"""Tests of lib.files.thumbs: cached gallery thumbnails and display downscaling."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from lib.files.kinds import is_image
from lib.files.thumbs import downscale_for_display, thumbnail


def save(path: Path, size: tuple[int, int], fmt: str = "PNG", mode: str = "RGB", **kwargs) -> Path:
    Image.new(mode, size, "orange").save(path, fmt, **kwargs)
    return path


def test_thumbnail_is_small_png_for_a_chart(tmp_path):
    src = save(tmp_path / "chart.png", (1200, 600))
    thumb = thumbnail(src, tmp_path / "cache")
    assert thumb is not None and thumb.suffix == ".png"
    assert thumb.parent == tmp_path / "cache"
    with Image.open(thumb) as image:
        assert image.size == (360, 180)


def test_thumbnail_of_a_photo_is_jpeg(tmp_path):
    src = save(tmp_path / "photo.jpg", (2000, 1500), "JPEG")
    thumb = thumbnail(src, tmp_path / "cache", max_px=200)
    assert thumb is not None and thumb.suffix == ".jpg"
    with Image.open(thumb) as image:
        assert image.size == (200, 150)


def test_thumbnail_keeps_alpha(tmp_path):
    src = save(tmp_path / "logo.png", (800, 800), mode="RGBA")
    thumb = thumbnail(src, tmp_path / "cache")
    with Image.open(thumb) as image:
        assert image.mode == "RGBA"


def test_second_call_reuses_the_cached_file(tmp_path):
    src = save(tmp_path / "chart.png", (900, 900))
    first = thumbnail(src, tmp_path / "cache")
    mtime = first.stat().st_mtime_ns
    second = thumbnail(src, tmp_path / "cache")
    assert second == first
    assert second.stat().st_mtime_ns == mtime
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_changed_source_or_size_gets_a_new_thumbnail(tmp_path):
    src = save(tmp_path / "chart.png", (900, 900))
    first = thumbnail(src, tmp_path / "cache")
    assert thumbnail(src, tmp_path / "cache", max_px=100) != first
    save(src, (500, 100))
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    third = thumbnail(src, tmp_path / "cache")
    assert third != first
    with Image.open(third) as image:
        assert image.size == (360, 72)


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    src = save(tmp_path / "phone.jpg", (400, 200), "JPEG", exif=exif)
    with Image.open(thumbnail(src, tmp_path / "cache", max_px=100)) as image:
        assert image.size == (50, 100)


def test_broken_image_gives_none(tmp_path):
    src = tmp_path / "broken.png"
    src.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert thumbnail(src, tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_non_image_and_missing_file_give_none(tmp_path):
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    assert thumbnail(notes, tmp_path / "cache") is None
    assert thumbnail(tmp_path / "missing.png", tmp_path / "cache") is None


def test_is_image():
    assert is_image("image/png") and is_image("image/jpeg") and is_image("IMAGE/PNG")
    assert is_image(str(Path("out/plot.PNG"))) and is_image("photo.jpeg")
    assert not is_image("text/csv") and not is_image("report.pdf") and not is_image("image/svg+xml")


def png_bytes(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


def test_downscale_leaves_small_images_byte_identical():
    data = png_bytes((800, 600))
    assert downscale_for_display(data) is data


def test_downscale_shrinks_large_images_to_png():
    out = downscale_for_display(png_bytes((3000, 1500)), max_px=1000)
    with Image.open(io.BytesIO(out)) as image:
        assert image.format == "PNG"
        assert image.size == (1000, 500)


def test_downscale_returns_unreadable_bytes_as_given():
    data = b"not an image"
    assert downscale_for_display(data) == data
