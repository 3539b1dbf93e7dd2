"""Gallery cards: a chart's PNG and Vega-Lite spec of one turn are one card, whatever the filters."""

from __future__ import annotations

from lib.runs import gallery
from lib.storage.records import ArtifactFilter
from lib.storage.store import Store
from tests.support.seed import CHART, seed_chart_run


def test_png_and_spec_make_one_card_and_pages_count_cards(data_dir):
    first, second = seed_chart_run(data_dir), seed_chart_run(data_dir)
    store = Store(data_dir)
    assert store.artifacts(ArtifactFilter())[1] == 4
    page = gallery.page_of(store, ArtifactFilter(), 1, 1)
    assert (page.total, page.pages) == (2, 2)
    (card,) = page.cards
    assert card.artifact.run_id == second and card.artifact.filename == f"{CHART}.png"
    assert card.spec is not None and card.spec.filename == f"{CHART}.vl.json"
    assert sorted(a.filename for a in card.members) == [f"{CHART}.png", f"{CHART}.vl.json"]
    assert gallery.page_of(store, ArtifactFilter(), 2, 1).cards[0].artifact.run_id == first
    chart = gallery.chart_of(data_dir, card)
    assert chart is not None and chart.interactive and chart.png_path == data_dir / card.artifact.path


def test_a_filter_that_lets_only_the_spec_through_still_shows_the_pair(data_dir):
    seed_chart_run(data_dir)
    store = Store(data_dir)
    (card,) = gallery.page_of(store, ArtifactFilter(words="vl.json"), 1, 12).cards
    assert card.artifact.filename == f"{CHART}.png" and card.spec is not None
    assert not gallery.page_of(store, ArtifactFilter(kind="other"), 1, 12).cards, "a chart is not an 'other' file"
    (card,) = gallery.page_of(store, ArtifactFilter(kind="image"), 1, 12).cards
    assert card.spec is not None


def test_a_png_without_spec_is_a_plain_card(data_dir):
    rid = seed_chart_run(data_dir)
    store = Store(data_dir)
    spec = next(a for a in store.artifacts(ArtifactFilter(run_id=rid))[0] if a.filename.endswith(".vl.json"))
    gallery.delete_artifact(store, data_dir, spec)
    (card,) = gallery.page_of(store, ArtifactFilter(), 1, 12).cards
    assert card.spec is None and card.members == [card.artifact] and gallery.chart_of(data_dir, card) is None
