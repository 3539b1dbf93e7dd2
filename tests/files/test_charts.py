"""Vega-Lite specs beside PNG charts: loading, checking, pairing and the fallback decision."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.files import charts
from lib.limits import LIMITS
from lib.transcript import GeneratedFile, Text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def spec(rows: int = 3, **extra) -> dict:
    """A small valid Vega-Lite v5 bar chart with inline data."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"region": f"r{i}", "revenue": i * 10} for i in range(rows)]},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "region", "type": "nominal"},
            "y": {"field": "revenue", "type": "quantitative"},
        },
        **extra,
    }


def write_pair(tmp_path: Path, body: str | bytes, png: bool = True) -> tuple[Path, Path]:
    spec_path, png_path = tmp_path / "sales.vl.json", tmp_path / "sales.png"
    spec_path.write_bytes(body.encode() if isinstance(body, str) else body)
    if png:
        png_path.write_bytes(PNG)
    return spec_path, png_path


def test_a_valid_spec_is_drawn_with_its_png_kept(tmp_path):
    spec_path, png_path = write_pair(tmp_path, json.dumps(spec()))
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert c.interactive and c.note == ""
    assert c.spec["mark"]["type"] == "bar" and len(c.spec["data"]["values"]) == 3
    assert c.png_path == png_path and c.spec_path == spec_path and c.png_name == "sales.png"


def test_an_altair_chart_passes(tmp_path):
    import altair as alt
    import pandas as pd

    made = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x:Q", y="y:Q").to_dict()
    made["$schema"] = "https://vega.github.io/schema/vega-lite/v5.json"
    spec_path, png_path = write_pair(tmp_path, json.dumps(made))
    assert charts.chart(spec_path, png_path, "sales.vl.json").interactive


def test_invalid_json_falls_back_to_the_png(tmp_path):
    spec_path, png_path = write_pair(tmp_path, '{"mark": "bar", ')
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not c.interactive and c.spec is None
    assert c.png_path == png_path and c.spec_path == spec_path  # the spec stays downloadable
    assert c.note == "Interactive chart not shown: it is not readable JSON (JSONDecodeError); the PNG is shown instead."


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (spec(mark={"type": "nonsense"}), "it is not valid Vega-Lite (at mark/type: 'nonsense' is not one of"),
        (spec(encoding={"x": {"field": "region", "type": "wrong"}}), "at encoding/x/type"),
        ({k: v for k, v in spec().items() if k != "mark"}, "it has no mark, layer or concat"),
        (spec(**{"$schema": "https://vega.github.io/schema/vega/v5.json"}), "declares `https://vega.github.io"),
        ([1, 2, 3], "it is not a JSON object"),
        (spec(data={"name": "elsewhere"}), "it names a dataset `elsewhere` it does not contain"),
    ],
)
def test_specs_that_are_not_vega_lite_v5_are_refused(tmp_path, body, says):
    spec_path, png_path = write_pair(tmp_path, json.dumps(body))
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not c.interactive and says in c.note and c.note.endswith("the PNG is shown instead."), c.note


@pytest.mark.parametrize(
    "body",
    [
        spec(data={"url": "https://example.com/data.csv"}),
        spec(transform=[{"lookup": "id", "from": {"data": {"url": "http://127.0.0.1:9/x.json"}, "key": "id"}}]),
        {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "layer": [spec(), {"data": {"url": "https://example.com/x.json"}, "mark": "point"}],
        },
        spec(mark="image", encoding={"url": {"field": "region", "type": "nominal"}}),
    ],
)
def test_a_spec_that_would_fetch_urls_is_never_drawn(tmp_path, body):
    spec_path, png_path = write_pair(tmp_path, json.dumps(body))
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not c.interactive and "would fetch from a URL" in c.note and "only inline data" in c.note


def test_a_url_column_in_inline_data_is_fine(tmp_path):
    body = spec()
    body["data"]["values"][0]["url"] = "https://example.com"
    spec_path, png_path = write_pair(tmp_path, json.dumps(body))
    assert charts.chart(spec_path, png_path, "sales.vl.json").interactive


def test_too_many_rows_shows_the_png(tmp_path):
    spec_path, png_path = write_pair(tmp_path, json.dumps(spec(rows=LIMITS.spec_rows + 1)))
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not c.interactive and f"holds {LIMITS.spec_rows + 1:,} data rows" in c.note


def test_an_oversized_file_is_not_even_parsed(tmp_path, monkeypatch):
    spec_path, png_path = write_pair(tmp_path, b"x" * (LIMITS.spec_bytes + 1))
    monkeypatch.setattr(charts.json, "loads", lambda *_: pytest.fail("an oversized spec must not be parsed"))
    c = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not c.interactive and "5.2 MB, more than the 5 MB drawn interactively" in c.note


def test_missing_png_sibling(tmp_path):
    spec_path, png_path = write_pair(tmp_path, json.dumps(spec()), png=False)
    good = charts.chart(spec_path, png_path, "sales.vl.json")
    assert good.interactive and good.png_path is None
    spec_path.write_text("not json")
    bad = charts.chart(spec_path, png_path, "sales.vl.json")
    assert not bad.interactive and bad.png_path is None and bad.note.endswith("no PNG was saved beside it.")


def test_missing_spec_file(tmp_path):
    c = charts.chart(tmp_path / "gone.vl.json", None, "gone.vl.json")
    assert not c.interactive and c.spec_path is None and "`gone.png` is no longer on disk" in c.note


def test_names_and_pairs():
    assert charts.is_spec("Sales.VL.JSON") and not charts.is_spec("sales.json")
    assert charts.png_name_for("by region.vl.json") == "by region.png"
    names = ["a.png", "notes.csv", "a.vl.json", "b.vl.json", "c.png"]
    assert charts.pair_files(names, str) == {2: 0, 3: None}
    assert charts.paired_pngs(names, str) == {0}


def test_shown_names_and_a_figure_from_stored_files(tmp_path):
    spec_path, png_path = write_pair(tmp_path, json.dumps(spec()))
    spec_file = GeneratedFile(filename="sales.vl.json", path=spec_path.name)
    png_file = GeneratedFile(filename="sales.png", path=png_path.name)
    failed = GeneratedFile(filename="x.png", path="x.png", error="download failed")
    assert [charts.shown_name(i) for i in (spec_file, failed, GeneratedFile(filename="y.png"), Text("a.png"))] == [
        "sales.vl.json", "", "", ""
    ]  # fmt: skip
    both = charts.figure_chart(tmp_path, spec_file, png_file, "sales.vl.json")
    assert both.interactive and (both.spec_path, both.png_path) == (spec_path, png_path)
    alone = charts.figure_chart(tmp_path, spec_file, None, "sales.vl.json")
    assert alone.interactive and alone.png_path is None


# --- what a model's spec can hold: checked and cleaned, never an exception ---------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)
KEYS = st.sampled_from(["mark", "layer", "data", "values", "url", "usermeta", "href", "encoding", "datasets", "name"])
SPECISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10) | st.just("bar"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


def _keys_outside_rows(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {
            k for key, v in node.items() if key not in ("values", "datasets") for k in _keys_outside_rows(v)
        }
    if isinstance(node, list):
        return {k for v in node for k in _keys_outside_rows(v)}
    return set()


@pytest.mark.fuzz
@given(JSON | SPECISH)
def test_any_json_is_either_refused_with_a_reason_or_drawn_without_links_and_embed_options(value):
    try:
        cleaned = charts.validate(value)
    except charts.SpecProblem as problem:
        assert str(problem)
        return
    assert not _keys_outside_rows(cleaned) & {"usermeta", "href", "url"}


@pytest.mark.fuzz
@given(
    st.dictionaries(st.text(max_size=6), JSON, max_size=3),
    st.sampled_from(["javascript:alert(1)", "https://example.com", {"field": "region", "type": "nominal"}]),
)
def test_embed_options_and_links_are_stripped_from_a_valid_spec(usermeta, href):
    body = spec(usermeta={"embedOptions": {"loader": {"baseURL": "https://evil.example"}}, **usermeta})
    body["encoding"]["href"] = href
    body["mark"]["href"] = "javascript:alert(1)" if isinstance(href, dict) else href
    cleaned = charts.validate(body)
    assert "usermeta" not in cleaned and "href" not in cleaned["encoding"] and "href" not in cleaned["mark"]
    assert cleaned["data"] == body["data"] and cleaned["encoding"]["x"] == body["encoding"]["x"]


@pytest.mark.fuzz
@given(st.binary(max_size=2_000) | JSON.map(lambda v: json.dumps(v).encode()))
def test_reading_any_spec_file_gives_a_spec_or_a_reason(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.vl.json"
        path.write_bytes(data)
        try:
            assert isinstance(charts.checked_spec(path), dict)
        except charts.SpecProblem as problem:
            assert str(problem)
