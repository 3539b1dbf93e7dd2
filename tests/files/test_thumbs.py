"""Tests of lib.files.thumbs: cached gallery thumbnails and display copies, decoded in the sandbox."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

from lib.files.kinds import is_image
from lib.files.thumbs import display, thumbnail
from lib.limits import LIMITS


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


def test_display_is_a_png_no_larger_than_the_display_size(tmp_path):
    big = save(tmp_path / "big.png", (3000, 1500))
    shown = display(big)
    assert (
        shown.problem == "" and shown.value.format == "PNG" and (shown.value.width, shown.value.height) == (3000, 1500)
    )
    with Image.open(io.BytesIO(shown.value.data)) as image:
        assert image.format == "PNG" and image.size == (LIMITS.display_px, LIMITS.display_px // 2)


def test_display_never_hands_back_the_original_bytes(tmp_path):
    small = save(tmp_path / "photo.jpg", (200, 100), "JPEG")
    shown = display(small)
    assert shown.value.data != small.read_bytes()
    with Image.open(io.BytesIO(shown.value.data)) as image:
        assert image.format == "PNG" and image.size == (200, 100)


def test_display_of_an_image_over_the_pixel_limit_says_why(tmp_path):
    huge = save(tmp_path / "huge.png", (10_000, 9_000), mode="1")  # 90 M pixels in a small file
    shown = display(huge)
    assert shown.value is None
    assert shown.problem == "it is 10,000 × 9,000 pixels, more than the 89,478,485 shown"


def test_display_of_unreadable_bytes_says_why(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    shown = display(bad)
    assert shown.value is None and shown.problem == "it is not a readable image (UnidentifiedImageError)"
