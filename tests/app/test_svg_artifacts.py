"""An SVG made by code (possibly with a script in it) is never drawn in the page: a download only, as plain bytes."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.storage.store import Store
from tests.support.apptest import GALLERY, MediaCapture, run
from tests.support.hostile import SVG_SCRIPT as SVG
from tests.support.seed import png_bytes

PNG = png_bytes()


def _transcript(data_dir: str) -> None:
    from pathlib import Path

    from lib.transcript import GeneratedFile
    from lib.ui.render import render_item

    for name, mime in (
        ("drawing.svg", "image/svg+xml"),
        ("mislabelled.png", "image/svg+xml"),
        ("chart.png", "image/png"),
    ):
        size = (Path(data_dir) / name).stat().st_size
        render_item(
            GeneratedFile(file_id=name, filename=name, mime_type=mime, size_bytes=size, path=name),
            Path(data_dir),
            key=name,
        )


def test_transcript_offers_svg_as_a_download_only(tmp_path, media: MediaCapture):
    served = media.mimetypes
    (tmp_path / "drawing.svg").write_bytes(SVG)
    (tmp_path / "mislabelled.png").write_bytes(SVG)
    (tmp_path / "chart.png").write_bytes(PNG)
    at = AppTest.from_function(_transcript, args=(str(tmp_path),), default_timeout=30)
    run(at)
    assert len(at.image) == 1  # the real chart only
    notes = [c.value for c in at.caption if "can contain scripts" in c.value]
    assert len(notes) == 2 and "drawing.svg" in notes[0] and "mislabelled.png" in notes[1]
    labels = [b.label for b in at.get("download_button")]
    assert [label.split(" (")[0] for label in labels] == [
        "Download drawing.svg",
        "Download mislabelled.png",
        "Download chart.png",
    ]
    assert served["drawing.svg"] == served["mislabelled.png"] == "application/octet-stream"
    assert served["chart.png"] == "image/png"
    assert not any("svg" in mime for mime in served.values())


def test_gallery_detail_of_an_svg_artifact(make_app, data_dir, media: MediaCapture):
    served = media.mimetypes
    store = Store(data_dir)
    (data_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    (data_dir / "artifacts" / "logo.svg").write_bytes(SVG)
    run_id = store.create_run("Draw the logo", "claude-sonnet-4-6", "code_execution_20260521", []).id
    turn = store.add_turn(run_id, "Draw the logo as SVG", [])
    store.add_artifact(run_id, turn, "file_svg", "logo.svg", "image/svg+xml", len(SVG), "artifacts/logo.svg", "")
    at = make_app()
    at.switch_page(GALLERY)
    run(at)
    assert not at.image  # no thumbnail: an icon
    art = store.artifacts()[0][0]
    at.button(key=f"gallery_open_{art.id}").click()
    run(at)
    assert not at.image
    assert any("logo.svg` can contain scripts" in c.value for c in at.caption)
    assert served["logo.svg"] == "application/octet-stream"
