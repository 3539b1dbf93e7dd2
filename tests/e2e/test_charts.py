"""A chart saved with a Vega-Lite spec draws interactively on Analyze and in the Gallery; a broken one falls back."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Page, expect

from tests.support.browser import App, emulator_app, shared, wait_for_app_run
from tests.support.pages import main, open_app
from tests.support.seed import BROKEN_SPEC, CHART, seed_chart_run

pytestmark = pytest.mark.browser


@pytest.fixture
def charts_app(_apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> App:
    """The app keyed to an emulator, with a data directory of its own for seeded chart runs."""
    return shared(_apps, "charts", lambda: emulator_app(tmp_path_factory.mktemp("charts")))


def vega(page: Page):
    """Interactive Vega-Lite charts drawn on the page (Vega renders into a canvas inside .vega-embed)."""
    return main(page).locator(".vega-embed")


def test_spec_renders_interactive_on_analyze_and_in_gallery(page: Page, charts_app: App, shot) -> None:
    rid = seed_chart_run(charts_app.data_dir)
    open_app(page, charts_app, f"Analyze?run={rid}")
    expect(vega(page)).to_have_count(1)
    expect(vega(page).locator("canvas, svg").first).to_be_visible()
    expect(main(page).get_by_text(f"{CHART}.vl.json").first).to_be_visible()
    expect(page.get_by_test_id("stChatMessage").nth(1).get_by_test_id("stImage")).to_have_count(0)
    # interactive: hovering the tallest bar shows its values
    box = vega(page).locator("canvas, svg").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    expect(page.locator("#vg-tooltip-element")).to_contain_text("143.25")
    expect(main(page).get_by_role("button", name=re.compile(rf"{CHART}\.vl\.json \(Vega-Lite spec\)"))).to_be_visible()
    shot("analyze_interactive_chart", full_page=False)

    open_app(page, charts_app, "Gallery")
    card = (
        main(page)
        .get_by_test_id("stVerticalBlock")
        .filter(has_text=f"{CHART}.png")
        .filter(has=page.get_by_role("button", name=re.compile("Open$")))
    )
    expect(main(page).get_by_text("interactive", exact=False).first).to_be_visible()  # the card says it has a spec
    card.last.get_by_role("button", name=re.compile("Open$")).click()
    wait_for_app_run(page)
    expect(vega(page)).to_have_count(1)
    expect(vega(page).locator("canvas, svg").first).to_be_visible()
    shot("gallery_interactive_chart", full_page=False)


def test_broken_spec_falls_back_to_the_png(page: Page, charts_app: App) -> None:
    rid = seed_chart_run(charts_app.data_dir, spec_text=BROKEN_SPEC)
    open_app(page, charts_app, f"Analyze?run={rid}")
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer.get_by_test_id("stImage")).to_have_count(1)
    img = answer.get_by_test_id("stImage").locator("img")
    expect(img).to_be_visible()
    assert page.evaluate("(el) => el.complete && el.naturalWidth", img.element_handle()) > 0
    expect(answer.get_by_text("Interactive chart not shown: it is not readable JSON")).to_be_visible()
    expect(vega(page)).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
