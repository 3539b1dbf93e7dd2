"""Gallery: thumbnails of a run's charts, the detail view with lineage, and a zip of two ticked artifacts."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from PIL import Image
from playwright.sync_api import Page, expect

from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from tests.support.browser import REPO, wait_for_app_run
from tests.support.pages import ask, main, open_app, seed_file, sidebar_link, wait_until_finished

pytestmark = pytest.mark.browser

SAMPLE = REPO / "samples" / "monthly_sales.csv"
QUESTION = "Chart the distribution of revenue"


def test_gallery_thumbnails_detail_and_zip(page: Page, paced_app, shot) -> None:
    # a finished run of our own, so the gallery has a chart and a table to show
    if "sample" not in paced_app.extra:
        paced_app.extra["sample"] = seed_file(paced_app, SAMPLE)
    open_app(page, paced_app, "Analyze")
    ask(page, SAMPLE.name, QUESTION)
    wait_until_finished(page)
    expect(page.get_by_test_id("stChatMessage").nth(1).locator(".vega-embed")).to_have_count(1)

    sidebar_link(page, "Gallery")
    area = main(page)
    expect(area.get_by_role("heading", name="Gallery")).to_be_visible()
    expect(area.get_by_test_id("stImage").first).to_be_visible()
    shot("gallery_all")
    # narrow the grid to this run, as a person looking for it would
    area.get_by_label("Words of the question").fill("distribution of revenue")
    area.get_by_label("Words of the question").press("Enter")
    wait_for_app_run(page)
    cards = area.locator("[class*='st-key-gallery_card_']")
    expect(cards).to_have_count(2)  # the chart and the summary table
    chart_card = cards.filter(has=page.get_by_test_id("stImage"))
    expect(chart_card).to_have_count(1)
    thumb = chart_card.get_by_test_id("stImage").locator("img")
    expect(thumb).to_be_visible()
    assert page.evaluate("(el) => el.complete && el.naturalWidth", thumb.element_handle()) > 0
    made, _ = Store(paced_app.data_dir).artifacts(ArtifactFilter(words=QUESTION))
    [chart_name] = [a.filename for a in made if a.filename.endswith(".png")]
    shown = chart_card.locator("strong").first.inner_text()  # a long name keeps its start and its end
    assert shown == chart_name or (shown[:5] == chart_name[:5] and shown.endswith(chart_name[-8:])), shown
    expect(area.get_by_text("2 artifacts · page 1 of 1")).to_be_visible()
    shot("gallery_grid")

    # open the chart: drawn interactively from its spec, the question that led to it and the code that made it
    chart_card.get_by_role("button", name=re.compile("Open$")).click()
    wait_for_app_run(page)
    detail = (
        area.get_by_test_id("stVerticalBlock")
        .filter(has=page.get_by_role("button", name=re.compile("Close$")))
        .filter(has=page.locator(".vega-embed"))
        .last
    )
    expect(detail.get_by_role("heading", name=chart_name)).to_be_visible()
    expect(detail.locator(".vega-embed canvas, .vega-embed svg").first).to_be_visible()
    expect(detail.get_by_text(f"Question: {QUESTION}")).to_be_visible()
    expect(detail.get_by_test_id("stCode").first).to_contain_text("savefig")

    # tick both, download them as one zip
    for card in cards.all():
        card.get_by_text("Select", exact=True).click()
        wait_for_app_run(page)
    button = area.get_by_role("button", name="Download 3 as zip")  # the chart's PNG and spec, and the table
    expect(button).to_be_enabled()
    shot("gallery_detail")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "artifacts.zip"
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as zf:
        names = sorted(zf.namelist())
        made, _ = Store(paced_app.data_dir).artifacts(ArtifactFilter(words=QUESTION))
        assert names == sorted(a.filename for a in made)
        assert chart_name in names
        assert any(n.endswith(".csv") for n in names)
        png = zf.read(chart_name)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as im:
        im.verify()
