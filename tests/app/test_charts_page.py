"""Vega-Lite charts on the Analyze page and in the Gallery: drawn interactively, or the PNG with a note."""

from __future__ import annotations

import io
import json
import zipfile

from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from tests.support.apptest import ANALYZE, GALLERY, run
from tests.support.seed import BROKEN_SPEC, CHART, png_bytes, seed_chart_run

SPEC_NAME = f"{CHART}.vl.json"
PNG_NAME = f"{CHART}.png"


def vega_charts(at) -> list:
    """The Vega-Lite chart elements on the page."""
    return list(at.get("vega_lite_chart"))


def downloads(at) -> dict[str, object]:
    """Download buttons by label."""
    return {b.label: b for b in at.get("download_button")}


def open_run(make_app, emulator, rid):
    at = make_app(emulator)
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    return run(at)


def test_a_run_with_a_spec_shows_an_interactive_chart(make_app, emulator, data_dir, media):
    rid = seed_chart_run(data_dir)
    at = open_run(make_app, emulator, rid)
    (chart,) = vega_charts(at)
    drawn = json.loads(chart.proto.spec)
    assert drawn["title"] == "Revenue by region" and drawn["mark"]["type"] == "bar"
    assert not at.image  # the PNG is the fallback, not shown twice
    assert any(c.value.startswith(f":material/insights: `{SPEC_NAME}` · interactive") for c in at.caption)
    buttons = downloads(at)
    png = next(b for label, b in buttons.items() if label.startswith(f"{PNG_NAME} ("))
    assert media.download(png) == png_bytes()
    spec = buttons[f"{SPEC_NAME} (Vega-Lite spec)"]
    assert json.loads(media.download(spec))["title"] == "Revenue by region"


def test_a_broken_spec_falls_back_to_the_png_with_a_note(make_app, emulator, data_dir, media):
    rid = seed_chart_run(data_dir, spec_text=BROKEN_SPEC)
    at = open_run(make_app, emulator, rid)
    assert not vega_charts(at) and not at.exception
    assert len(at.image) == 1 and at.image[0].captions == [PNG_NAME]
    assert media.image_bytes(at.image[0].value[0]).startswith(b"\x89PNG")
    notes = [c.value for c in at.caption if "Interactive chart not shown" in c.value]
    assert notes == [
        ":material/info: Interactive chart not shown: it is not readable JSON (JSONDecodeError); the PNG is shown instead."
    ]
    assert media.download(downloads(at)[f"{SPEC_NAME} (Vega-Lite spec)"]).decode() == BROKEN_SPEC


def test_a_spec_fetching_a_url_is_not_drawn(make_app, emulator, data_dir):
    remote = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"url": "https://example.com/d.csv"},
    }
    rid = seed_chart_run(data_dir, spec_text=json.dumps({**remote, "mark": "bar"}))
    at = open_run(make_app, emulator, rid)
    assert not vega_charts(at) and len(at.image) == 1
    assert any("would fetch from a URL" in c.value for c in at.caption)


def open_gallery(make_app, emulator):
    at = make_app(emulator)
    at.switch_page(GALLERY)
    return run(at)


def test_gallery_pairs_png_and_spec_in_one_card_and_draws_the_chart(make_app, emulator, data_dir, media):
    rid = seed_chart_run(data_dir)
    store = Store(data_dir)
    arts = {a.filename: a for a in store.artifacts(ArtifactFilter(run_id=rid))[0]}
    png = arts[PNG_NAME]
    at = open_gallery(make_app, emulator)
    # one card: the PNG's thumbnail, the spec named on it, no second card for the spec
    assert any(c.value == "1 artifact · page 1 of 1" for c in at.caption)
    assert [m.value for m in at.markdown if m.value.startswith("**")] == [f"**{PNG_NAME}**"]
    assert len(at.image) == 1 and any(":material/insights: interactive" in c.value for c in at.caption)
    assert not vega_charts(at)

    at.button(key=f"gallery_open_{png.id}").click()
    run(at)
    (chart,) = vega_charts(at)
    assert json.loads(chart.proto.spec)["title"] == "Revenue by region"
    assert len(at.image) == 1  # only the thumbnail: the chart is drawn from its spec
    buttons = downloads(at)
    assert json.loads(media.download(buttons[f"{SPEC_NAME} (Vega-Lite spec)"]))["mark"]["type"] == "bar"
    assert media.download(next(b for k, b in buttons.items() if k.startswith(f"{PNG_NAME} ("))) == png_bytes()

    # selecting the card zips both files; deleting it removes both
    at.checkbox(key=f"gallery_sel_{png.id}").check()
    run(at)
    zipped = zipfile.ZipFile(io.BytesIO(media.download(at.download_button(key="gallery_zip"))))
    assert sorted(zipped.namelist()) == [PNG_NAME, SPEC_NAME]
    at.checkbox(key="gallery_delete_confirm").check()
    run(at)
    at.button(key="gallery_delete").click()
    run(at)
    assert store.artifacts(ArtifactFilter(run_id=rid))[1] == 0
    assert any("Nothing here yet" in i.value for i in at.info)


def test_gallery_broken_spec_shows_the_png_with_a_note(make_app, emulator, data_dir):
    rid = seed_chart_run(data_dir, spec_text=BROKEN_SPEC)
    png = next(a for a in Store(data_dir).artifacts(ArtifactFilter(run_id=rid))[0] if a.filename == PNG_NAME)
    at = open_gallery(make_app, emulator)
    at.button(key=f"gallery_open_{png.id}").click()
    run(at)
    assert not vega_charts(at) and not at.exception
    assert len(at.image) == 2  # the large PNG and the thumbnail
    assert any("Interactive chart not shown: it is not readable JSON" in c.value for c in at.caption)
