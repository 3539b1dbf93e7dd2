"""Copy the README's pictures from the last browser-test run, palette-compressed with Pillow."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "test-artifacts" / "screenshots"
TARGET = REPO / "docs" / "screenshots"
CHOSEN = {
    "first_hour_home_1280.png": "home.png",
    "first_hour_files_1280.png": "files-preview.png",
    "first_hour_analyze_chart_1280.png": "analyze-chart.png",
    "first_hour_gallery_grid_1280.png": "gallery.png",
    "signin_sidebar.png": "signed-in-sidebar.png",
    "admin_page.png": "admin.png",
    "first_hour_compare_1280.png": "compare.png",
    "analyze_sources.png": "analyze-sources.png",
    "data_sources.png": "data-sources.png",
}
MAX_HEIGHT = 1400


def main() -> None:
    """Write each chosen screenshot to docs/screenshots, cropped to a sane height."""
    TARGET.mkdir(parents=True, exist_ok=True)
    for source, target in CHOSEN.items():
        with Image.open(SOURCE / source) as image:
            image = image.convert("RGB").crop((0, 0, image.width, min(image.height, MAX_HEIGHT)))
            image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(TARGET / target, optimize=True)
        print(f"{target}: {(TARGET / target).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
