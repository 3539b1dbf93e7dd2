"""A first hour with the offline demo, pictured at 1280×800 and 1920×1080: Home, Files, a demo run on Analyze, an
opened Gallery card and Compare. The pictures are checked by the boxes of what they show: every gallery card holds
its buttons, card titles stay on one line, and the correlation heatmap is drawn about square, not as a strip."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import Browser, Locator, Page, expect

from tests.support.browser import REPO, SCREENSHOTS, SCROLL_HEIGHT_JS, WAIT_MS, App, shared, start_app, wait_for_app_run
from tests.support.pages import main, pick_option, wait_until_finished

pytestmark = pytest.mark.browser

SAMPLE = REPO / "samples" / "monthly_sales.csv"
HALF = "monthly_sales_h1.csv"
CORRELATION = "How are the numeric columns correlated?"
SIZES = {"1280": {"width": 1280, "height": 800}, "1920": {"width": 1920, "height": 1080}}
MAX_PICTURE_HEIGHT = 3000
CHART = ".vega-embed"  # Vega draws on a canvas: a chart is told apart by where it is, not by its text
CARDS = "[class*='st-key-gallery_card_']"


@dataclass(frozen=True)
class Seeded:
    """What the first hour left behind: the pages to picture."""

    app: App
    sales_run: str  # the monthly sales sample's run (a trend by region)
    churn_run: str  # the churn sample's run, with the correlation heatmap in its follow-up
    compare: str  # Compare's URL for the sales run and its replay on the first half of the year


def _url_run(page: Page) -> str:
    found = re.search(r"[?&]run=([0-9a-f]+)", page.url)
    assert found, page.url
    return found.group(1)


def _sample(page: Page, name: str) -> str:
    """One click on a sample of the home page; returns the run it started, once it has finished."""
    sample = main(page).locator(f".st-key-sample_{name.replace('.', '-')}")  # the button's key, as a CSS class
    sample.get_by_role("button", name=re.compile("Analyze")).first.click()
    expect(page).to_have_url(re.compile(r"[?&]run=[0-9a-f]+"), timeout=WAIT_MS * 2)
    _finished(page)
    return _url_run(page)


def _finished(page: Page) -> None:
    """Wait for the run on the page to end: the follow-up box appears only then (on a busy machine, a while)."""
    wait_until_finished(page, timeout=WAIT_MS * 4)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible(timeout=WAIT_MS * 4)


@pytest.fixture(scope="module")
def seeded(browser: Browser, _apps: dict[str, App], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One keyless app, taken through the first hour once in the browser (the demo keeps the files its emulator
    holds only for its own runs): two samples, a follow-up, an upload and a replay."""
    app = shared(_apps, "first-hour", lambda: start_app(tmp_path_factory.mktemp("first-hour"), emulator=None))
    half = tmp_path_factory.mktemp("half") / HALF
    half.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:289]))
    context = browser.new_context(viewport=SIZES["1280"])
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(app.url)
    wait_for_app_run(page)
    sales = _sample(page, "monthly_sales.csv")  # one click, from no key at all to a finished demo run
    page.goto(f"{app.url}/?demo=1")
    wait_for_app_run(page)
    churn = _sample(page, "subscriptions_churn.csv")
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(CORRELATION)
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    _finished(page)
    expect(page.get_by_test_id("stChatMessage").nth(3).locator(CHART)).to_have_count(1)

    page.goto(f"{app.url}/Files?demo=1")
    wait_for_app_run(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(half))
    wait_for_app_run(page)
    main(page).get_by_role("button", name=re.compile("Upload 1 file")).click()
    wait_for_app_run(page)
    expect(main(page).get_by_text(f"{HALF} uploaded", exact=False)).to_be_visible()

    page.goto(f"{app.url}/Analyze?demo=1&run={sales}")
    wait_for_app_run(page)
    main(page).get_by_role("button", name=re.compile("Replay on another file")).click()
    popover = page.get_by_test_id("stPopoverBody")
    popover.get_by_label("In place of monthly_sales.csv").click()
    page.get_by_role("option", name=re.compile(HALF)).click()
    wait_for_app_run(page)
    popover.get_by_role("button", name=re.compile("Start replay")).click()
    expect(page).not_to_have_url(re.compile(sales))
    _finished(page)
    replay = _url_run(page)
    context.close()
    yield Seeded(app, sales, churn, f"{app.url}/Compare?demo=1&a={sales}&b={replay}")


def _picture(page: Page, name: str) -> Path:
    """The whole page (Streamlit scrolls inside its main area) at the window's width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    assert size is not None
    height = min(max(int(page.evaluate(SCROLL_HEIGHT_JS)), size["height"]), MAX_PICTURE_HEIGHT)
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(200)
    return path


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _inside(inner: dict[str, float], outer: dict[str, float], what: str) -> None:
    slack = 1.0
    assert inner["x"] >= outer["x"] - slack and inner["y"] >= outer["y"] - slack, (what, inner, outer)
    assert inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack, (what, inner, outer)
    assert inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack, (what, inner, outer)


# how many lines a text element's words are laid out on
LINES_JS = """(el) => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))).size; }"""


def _heatmap_is_square(where: Locator) -> dict[str, float]:
    chart = where.locator(CHART).last
    expect(chart.locator("canvas, svg").first).to_be_visible()
    box = _box(chart)
    assert box["height"] > 250 and 0.6 < box["width"] / box["height"] < 1.8, box  # not an 880×60 strip
    return box


@pytest.fixture(params=list(SIZES))
def window(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, Page]]:
    context = browser.new_context(viewport=SIZES[request.param])
    context.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    yield request.param, context.new_page()
    context.close()


def test_the_first_hour_pictured_and_laid_out(seeded: Seeded, window: tuple[str, Page]) -> None:
    size, page = window
    url = seeded.app.url

    page.goto(f"{url}/?demo=1")
    wait_for_app_run(page)
    recent = main(page).locator("[class*='st-key-home_run_']")
    expect(recent).to_have_count(3)
    for row in recent.all():  # status, title, date and model on one line
        assert _box(row)["height"] < 60, _box(row)
        expect(row).to_contain_text("demo")
    _picture(page, f"first_hour_home_{size}")

    page.goto(f"{url}/Files?demo=1")
    wait_for_app_run(page)
    pick_option(page, "Select files", HALF)
    main(page).get_by_text(f"Preview and profile of {HALF}").click()
    wait_for_app_run(page)
    expect(main(page).get_by_test_id("stMetric").filter(has_text="Rows")).to_contain_text("288")
    expect(main(page).get_by_text("local copy").first).to_be_visible()
    _picture(page, f"first_hour_files_{size}")

    page.goto(f"{url}/Analyze?demo=1&run={seeded.sales_run}")
    wait_for_app_run(page)
    body = main(page)
    expect(body.get_by_text("demo · 1 code execution · no cost").first).to_be_visible()
    expect(body.get_by_text(re.compile("claude-"))).to_have_count(0)
    answer = page.get_by_test_id("stChatMessage").nth(1)
    expect(answer).to_contain_text("revenue (sum per month) by region")
    expect(answer.locator(CHART)).to_have_count(1)
    _picture(page, f"first_hour_analyze_{size}")
    # the answer's end, in a window tall enough for its chart, what it found and its cost
    page.set_viewport_size({"width": SIZES[size]["width"], "height": SIZES[size]["height"] + 300})
    answer.locator(CHART).evaluate("el => el.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / f"first_hour_analyze_chart_{size}.png"))
    page.set_viewport_size(SIZES[size])
    page.goto(f"{url}/Analyze?demo=1&run={seeded.churn_run}")
    wait_for_app_run(page)
    _heatmap_is_square(page.get_by_test_id("stChatMessage").nth(3))

    page.goto(f"{url}/Gallery?demo=1")
    wait_for_app_run(page)
    cards = main(page).locator(CARDS)
    expect(cards.first).to_be_visible()
    assert cards.count() >= 8
    for card in cards.all():
        outer = _box(card)
        buttons = card.locator("[class*='st-key-gallery_buttons_']")
        _inside(_box(buttons.get_by_text("Select", exact=True)), outer, "Select")
        _inside(_box(buttons.get_by_role("button", name=re.compile("Open$"))), outer, "Open")
        title = card.locator("[data-testid='stMarkdownContainer'] strong").first
        assert page.evaluate(LINES_JS, title.element_handle()) == 1, title.inner_text()
        question = card.get_by_test_id("stCaptionContainer").first
        assert page.evaluate(LINES_JS, question.element_handle()) == 1, question.inner_text()
    heights = {round(_box(card)["height"]) for card in cards.all()}
    assert max(heights) - min(heights) <= 2, heights  # a grid of equal cards
    _picture(page, f"first_hour_gallery_grid_{size}")
    card_width = _box(cards.first)["width"]
    heatmap_card = cards.filter(has_text=CORRELATION)  # the follow-up made one file: the heatmap
    heatmap_card.get_by_role("button", name=re.compile("Open$")).click()
    wait_for_app_run(page)
    opened = _heatmap_is_square(main(page))  # the opened card's chart: the only one on the page
    assert opened["width"] > 1.5 * card_width, (opened, card_width)  # larger than its card
    _picture(page, f"first_hour_gallery_{size}")

    page.goto(seeded.compare)
    wait_for_app_run(page)
    body = main(page)
    expect(body.get_by_role("heading", name="Compare runs")).to_be_visible()
    expect(body.get_by_text(re.compile(r"quoted number\(s\) changed"))).to_be_visible()
    expect(body.get_by_text("demo · 1 code execution · no cost")).to_have_count(2)
    _picture(page, f"first_hour_compare_{size}")
