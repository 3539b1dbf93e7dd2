"""Gallery: thumbnails, filters, detail with lineage, zip of a selection, delete."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

from lib.runs import gallery
from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from tests.support.apptest import (
    ANALYZE,
    GALLERY,
    finish,
    has_key,
    run,
    start_analysis,
    texts,
    upload_sales_and_open_analyze,
)

PNG_SIG = b"\x89PNG\r\n\x1a\n"
QUESTION = "Show the distribution histogram of revenue"


def _names(at) -> list[str]:
    """The cards' file names, whole (a long one is shortened on the card and whole in its tooltip)."""
    cards = [m for m in at.markdown if m.value.startswith("**") and m.value.endswith("**")]
    return [m.proto.help or m.value.strip("*") for m in cards]


def test_gallery_after_a_run(app, emulator, data_dir, media):
    at = upload_sales_and_open_analyze(app)
    rid = start_analysis(at, QUESTION, prompt=None)
    finish(at, rid)
    assert list(at.get("vega_lite_chart")), "the transcript draws the chart from its spec"

    at.switch_page(GALLERY)
    run(at)
    assert at.title[0].value == "Gallery"
    store = Store(data_dir)
    arts, total = store.artifacts(ArtifactFilter())
    by_name = {a.filename: a for a in arts}
    png, csv = by_name["monthly_sales_distribution.png"], by_name["monthly_sales_summary.csv"]
    assert total == 3 and "monthly_sales_distribution.vl.json" in by_name  # the spec shares the PNG's card
    assert any(c.value == "2 artifacts · page 1 of 1" for c in at.caption)
    assert sorted(_names(at)) == ["monthly_sales_distribution.png", "monthly_sales_summary.csv"]
    assert len(at.image) == 1  # one thumbnail: the chart
    thumb = at.image[0].value[0]
    assert thumb.endswith(".png") and media.image_bytes(thumb).startswith(PNG_SIG)
    assert sum(1 for c in at.caption if c.value.startswith(QUESTION)) == 2
    assert any(m.value.endswith(" CSV") and ":material/table:" in m.value for m in at.markdown)

    # filters: other files only
    at.selectbox(key="gallery_kind").set_value("other")
    run(at)
    assert _names(at) == ["monthly_sales_summary.csv"] and not at.image
    at.selectbox(key="gallery_kind").set_value("image")
    run(at)
    assert _names(at) == ["monthly_sales_distribution.png"] and len(at.image) == 1
    at.selectbox(key="gallery_kind").set_value("")
    at.text_input(key="gallery_words").input("histogram")
    run(at)
    assert len(_names(at)) == 2
    at.text_input(key="gallery_words").input("zebra-unicorn")
    run(at)
    assert any("No artifact matches these filters." in i.value for i in at.info)
    assert not _names(at)
    at.text_input(key="gallery_words").input("")
    at.selectbox(key="gallery_run").set_value(rid)
    run(at)
    assert len(_names(at)) == 2
    at.date_input(key="gallery_dates").set_value((date.today() - timedelta(days=9), date.today() - timedelta(days=2)))
    run(at)
    assert not _names(at) and any("No artifact matches" in i.value for i in at.info)
    at.date_input(key="gallery_dates").set_value((date.today(), date.today()))
    run(at)
    assert len(_names(at)) == 2

    # open: large image, the question, and the code that made it
    at.button(key=f"gallery_open_{png.id}").click()
    run(at)
    assert any(h.value == "monthly_sales_distribution.png" for h in at.subheader)
    assert list(at.get("vega_lite_chart")), "opened, the chart is drawn from its spec"
    assert len(at.image) == 1  # only the thumbnail: the PNG stays the fallback and a download
    downloads = [d.label for d in at.download_button]
    assert any(lbl.startswith("monthly_sales_distribution.png") for lbl in downloads), downloads
    assert any(lbl.endswith("(Vega-Lite spec)") for lbl in downloads), downloads
    assert any(m.value == f"**Question:** {QUESTION}" for m in at.markdown)
    assert any(c.value == "Code that made it" for c in at.caption)
    code = [c.value for c in at.code if c.language == "python"]
    assert len(code) == 1 and "savefig" in code[0] and "hist" in code[0]
    png_download = at.download_button(key=f"dl_gallery_{png.id}_png")
    assert media.download(png_download) == (data_dir / png.path).read_bytes()
    at.button(key="gallery_close").click()
    run(at)
    assert not has_key(at, "button", "gallery_close")

    # select both cards: a zip with the chart's PNG and spec, and the CSV
    assert at.download_button(key="gallery_zip").disabled
    at.checkbox(key=f"gallery_sel_{png.id}").check()
    at.checkbox(key=f"gallery_sel_{csv.id}").check()
    run(at)
    zip_button = at.download_button(key="gallery_zip")
    assert zip_button.label == "Download 3 as zip" and not zip_button.disabled
    with zipfile.ZipFile(io.BytesIO(media.download(zip_button))) as zf:
        assert sorted(zf.namelist()) == [
            "monthly_sales_distribution.png",
            "monthly_sales_distribution.vl.json",
            "monthly_sales_summary.csv",
        ]
        assert zf.read("monthly_sales_distribution.png") == (data_dir / png.path).read_bytes()
        assert zf.read("monthly_sales_summary.csv") == (data_dir / csv.path).read_bytes()
    # the library function the button calls, with the same artifacts from the store
    with zipfile.ZipFile(io.BytesIO(gallery.zip_bytes(store, data_dir, [png, csv]))) as zf:
        assert sorted(zf.namelist()) == ["monthly_sales_distribution.png", "monthly_sales_summary.csv"]

    # delete the chart (confirm first)
    at.checkbox(key=f"gallery_sel_{csv.id}").uncheck()
    run(at)
    assert at.download_button(key="gallery_zip").label == "Download 2 as zip"
    assert at.button(key="gallery_delete").disabled
    at.checkbox(key="gallery_delete_confirm").check()
    run(at)
    at.button(key="gallery_delete").click()
    run(at)
    assert _names(at) == ["monthly_sales_summary.csv"] and not at.image
    assert any(c.value.startswith("1 artifact · ") for c in at.caption)
    assert not (data_dir / png.path).exists()
    assert not (data_dir / by_name["monthly_sales_distribution.vl.json"].path).exists(), "the spec goes with its PNG"
    assert (data_dir / csv.path).exists()

    # the run's transcript notes the file is gone
    at.switch_page(ANALYZE)
    at.query_params["run"] = rid
    run(at)
    gone = "`monthly_sales_distribution.png` is no longer on disk"
    assert any(gone in c.value for c in [*at.warning, *at.caption]), texts(at)
    assert not at.image
    assert any(d.label.startswith("Download monthly_sales_summary.csv") for d in at.download_button)

    # the last one, from its detail view
    at.switch_page(GALLERY)
    run(at)
    at.button(key=f"gallery_open_{csv.id}").click()
    run(at)
    assert not at.image  # no large image for a CSV
    assert media.download(at.download_button(key="gallery_download_one")) == (data_dir / csv.path).read_bytes()
    assert at.button(key="gallery_delete_one").disabled, "deleting needs a confirmation first"
    at.checkbox(key="gallery_delete_one_confirm").check()
    run(at)
    at.button(key="gallery_delete_one").click()
    run(at)
    assert any("Nothing here yet" in i.value for i in at.info)
    assert not (data_dir / csv.path).exists()


def test_empty_gallery(app):
    app.switch_page(GALLERY)
    at = run(app)
    assert any("Nothing here yet" in i.value for i in at.info)


def test_gallery_detail_of_a_plain_image_is_shown_downscaled_and_downloadable(make_app, data_dir, media):
    from PIL import Image

    big = io.BytesIO()
    Image.new("RGB", (3000, 1500), "navy").save(big, format="PNG")
    data = big.getvalue()
    store = Store(data_dir)
    (data_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    (data_dir / "artifacts" / "photo.png").write_bytes(data)
    rid = store.create_run("Make a photo", "claude-sonnet-4-6", "code_execution_20260521", []).id
    turn = store.add_turn(rid, "Make a photo", [])
    store.add_artifact(rid, turn, "file_png", "photo.png", "image/png", len(data), "artifacts/photo.png", "")
    art = store.artifacts()[0][0]
    at = make_app()
    at.switch_page(GALLERY)
    run(at)
    at.button(key=f"gallery_open_{art.id}").click()
    run(at)
    assert len(at.image) == 2  # the large view and the card's thumbnail
    with Image.open(io.BytesIO(media.image_bytes(at.image[0].value[0]))) as shown:
        assert max(shown.size) == 1400, "the large view is downscaled for the page"
    assert media.download(at.download_button(key="gallery_download_one")) == data
