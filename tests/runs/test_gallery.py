"""Gallery cards: a chart's PNG and Vega-Lite spec of one turn are one card, whatever the filters."""

from __future__ import annotations

import io
import zipfile

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


HOSTILE = "..\\..\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\report.bat"


def test_zip_entries_are_cleaned_names_that_never_leave_the_folder(data_dir):
    store = Store(data_dir)
    run = store.create_run("q", "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(run.id, "q", [])
    names = [HOSTILE, "/etc/cron.d/job", "report.bat", "REPORT.BAT", "..", "notes\x00.txt"]
    for n, name in enumerate(names):
        rel = f"artifacts/{run.id}/file_{n}-x"
        (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / rel).write_bytes(name.encode())
        store.add_artifact(run.id, idx, f"file_{n}", name, "text/plain", 1, rel, "srvtoolu_1")
    arts = sorted(store.artifacts()[0], key=lambda a: a.file_id)
    with zipfile.ZipFile(io.BytesIO(gallery.zip_bytes(store, data_dir, arts))) as zf:
        entries = zf.namelist()
        assert entries == ["report.bat", "job", "report-2.bat", "REPORT-3.BAT", "file", "notes.txt"]
        assert zf.read("report.bat") == HOSTILE.encode(), "each entry holds its own file"
