"""A run's outputs, written by a model's code, are shown from what the sandbox made of them: never decoded here.

The AppTest script runs in this test process, as the Streamlit server would, so the pixel decoder, the CSV reader
and the spec checker are watched in this process: the pages must draw without any of them running here.
"""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image, ImageFile

from lib.files import charts
from tests.support.apptest import ANALYZE, FILES, GALLERY, page_text, run, upload
from tests.support.model_outputs import (
    HUGE_NUMBER_ANSWER,
    deep_spec,
    heavy_spec,
    huge_png,
    over_the_pixel_limit_png,
    seed_with_outputs,
    wide_csv,
)
from tests.support.seed import chart_spec, png_bytes

COMPARE = "pages/5_Compare.py"


@pytest.fixture
def decoded_here(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was decoded in this process: image pixels, CSV text, or a spec's schema check."""
    import pyarrow.csv as pcsv

    seen: list[str] = []
    real_load, real_open_csv = ImageFile.ImageFile.load, pcsv.open_csv

    def load(self):
        seen.append(f"pixels of a {self.size[0]}×{self.size[1]} {self.format}")
        return real_load(self)

    def open_csv(*args, **kwargs):
        seen.append("csv")
        return real_open_csv(*args, **kwargs)

    def validate(spec):
        seen.append("spec schema check")
        raise AssertionError("a spec was checked in the server process")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    monkeypatch.setattr(pcsv, "open_csv", open_csv)
    monkeypatch.setattr(charts, "validate", validate)
    return seen


def open_run(make_app, emulator, rid):
    at = make_app(emulator)
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    return run(at)


def shown_size(media, at, i: int = 0) -> tuple[int, int, str]:
    with Image.open(io.BytesIO(media.image_bytes(at.image[i].value[0]))) as image:
        return image.width, image.height, image.format


def test_a_60000_column_csv_shows_its_first_columns_read_in_the_sandbox(make_app, emulator, data_dir, decoded_here):
    data = wide_csv()
    assert len(data) < 700_000
    rid = seed_with_outputs(data_dir, "Make a wide table", "Saved it.", [("wide.csv", "text/csv", data)])
    at = open_run(make_app, emulator, rid)
    assert decoded_here == []
    (frame,) = [d.value for d in at.dataframe]
    assert frame.shape == (2, 50) and list(frame.columns[:3]) == ["c0", "c1", "c2"]
    assert ":material/table: `wide.csv` (first rows, first 50 of 60,000 columns)" in [c.value for c in at.caption]


def test_an_8000_pixel_png_is_drawn_from_a_display_copy_made_in_the_sandbox(
    make_app, emulator, data_dir, media, decoded_here
):
    rid = seed_with_outputs(data_dir, "Plot it big", "Here it is.", [("big.png", "image/png", huge_png())])
    at = open_run(make_app, emulator, rid)
    assert decoded_here == []
    assert at.image[0].captions == ["big.png"] and shown_size(media, at) == (1400, 1400, "PNG")


def test_an_image_over_the_pixel_limit_is_not_handed_to_the_page(make_app, emulator, data_dir, media, decoded_here):
    data = over_the_pixel_limit_png()
    rid = seed_with_outputs(data_dir, "Plot it bigger", "Here it is.", [("bomb.png", "image/png", data)])
    at = open_run(make_app, emulator, rid)
    assert decoded_here == [] and not at.image
    assert all(blob != data for blob, _ in media.by_url.values())
    assert (
        "`bomb.png` is not shown: it is 10,000 × 9,000 pixels, more than the 89,478,485 shown. "
        "It can still be downloaded."
    ) in [w.value for w in at.warning]


def test_a_spec_nested_20000_deep_leaves_the_run_readable(make_app, emulator, data_dir, media):
    files = [("deep.vl.json", "application/json", deep_spec()), ("deep.png", "image/png", png_bytes())]
    rid = seed_with_outputs(data_dir, "Chart it", "Done.", files)
    at = open_run(make_app, emulator, rid)
    assert at.image[0].captions == ["deep.png"] and not list(at.get("vega_lite_chart"))
    assert any("it is nested 20,002 levels deep, more than the 64 drawn" in c.value for c in at.caption)


def test_a_heavy_spec_is_checked_in_the_sandbox_not_here(make_app, emulator, data_dir, decoded_here):
    files = [("heavy.vl.json", "application/json", heavy_spec()), ("heavy.png", "image/png", png_bytes())]
    rid = seed_with_outputs(data_dir, "Chart it", "Done.", files)
    at = open_run(make_app, emulator, rid)
    assert decoded_here == []
    assert any(
        "its chart definition (without its data rows) is 572 KB, more than the 100 KB checked" in c.value
        for c in at.caption
    ), page_text(at)


def test_embed_options_and_links_never_reach_the_page(make_app, emulator, data_dir):
    spec = chart_spec()
    spec["usermeta"] = {"embedOptions": {"loader": {"baseURL": "https://attacker.example/"}, "ast": False}}
    spec["encoding"]["href"] = {"field": "region", "type": "nominal"}
    spec["mark"]["href"] = "javascript:alert(document.cookie)"
    files = [("c.vl.json", "application/json", json.dumps(spec).encode()), ("c.png", "image/png", png_bytes())]
    at = open_run(make_app, emulator, seed_with_outputs(data_dir, "Chart it", "Done.", files))
    (chart,) = list(at.get("vega_lite_chart"))
    drawn = json.loads(chart.proto.spec)
    assert drawn["mark"]["type"] == "bar" and drawn["encoding"]["x"] == spec["encoding"]["x"]
    assert "usermeta" not in drawn and "href" not in drawn["encoding"] and "href" not in drawn["mark"]


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("id,value,value,Value,id", ["id", "value", "value.1", "Value", "id.1"]),
        (",name,,amount,", ["Unnamed: 0", "name", "Unnamed: 2", "amount", "Unnamed: 4"]),
    ],
)
def test_a_generated_csv_with_repeated_or_blank_headers_shows_its_rows(make_app, emulator, data_dir, header, names):
    data = (header + "\n1,2,3,4,5\n6,7,8,9,10\n").encode()
    at = open_run(make_app, emulator, seed_with_outputs(data_dir, "Table", "Saved.", [("t.csv", "text/csv", data)]))
    (frame,) = [d.value for d in at.dataframe]
    assert list(frame.columns) == names and frame.iloc[1].tolist() == [6, 7, 8, 9, 10]


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("id,value,value,Value,id", ["id", "value", "value.1", "Value", "id.1"]),
        (",name,,amount,", ["Unnamed: 0", "name", "Unnamed: 2", "amount", "Unnamed: 4"]),
    ],
)
def test_an_upload_with_repeated_or_blank_headers_is_previewed(app, header, names):
    app.switch_page(FILES)
    at = run(app)
    upload(at, [("h.csv", (header + "\n1,a,2,3,4\n5,b,6,7,8\n").encode(), "text/csv")])
    assert {m.label: m.value for m in at.metric} == {
        "Rows": "2", "Columns": "5", "Delimiter": "comma", "Encoding": "utf-8"
    }  # fmt: skip
    head = at.dataframe[0].value
    assert list(head.columns) == names and head.iloc[0].tolist() == [1, "a", 2, 3, 4]
    schema = at.dataframe[1].value
    assert schema["column"].tolist() == names


def test_an_uploaded_8000_pixel_png_is_previewed_from_a_small_copy(app, media, decoded_here):
    app.switch_page(FILES)
    at = run(app)
    upload(at, [("big.png", huge_png(), "image/png")])
    run(at)  # a rerun shows the same preview without decoding anything either
    assert decoded_here == []
    assert at.image[0].captions == ["8000×8000 px · PNG · RGB"] and shown_size(media, at) == (480, 480, "PNG")


def test_gallery_thumbnails_of_large_images_are_made_in_the_sandbox(make_app, emulator, data_dir, decoded_here):
    seed_with_outputs(data_dir, "Plot it big", "Here it is.", [("big.png", "image/png", huge_png())])
    at = make_app(emulator)
    at.switch_page(GALLERY)
    run(at)
    assert decoded_here == []
    assert len(at.image) == 1 and (data_dir / "thumbs").is_dir()
    (thumb,) = (data_dir / "thumbs").iterdir()
    assert thumb.suffix == ".png" and thumb.stat().st_size < 100_000


def test_answers_quoting_2e9999999_and_1e400_are_compared(make_app, emulator, data_dir):
    old = seed_with_outputs(data_dir, "How did revenue grow?", HUGE_NUMBER_ANSWER, [])
    new = seed_with_outputs(data_dir, "How did revenue grow?", HUGE_NUMBER_ANSWER.replace("1,200", "1,350"), [])
    at = make_app(emulator)
    at.query_params["a"], at.query_params["b"] = old, new
    at.switch_page(COMPARE)
    run(at)
    table = at.table[0].value
    assert table[["Before", "After", "Change", "Change %"]].values.tolist() == [["1,200", "1,350", "+150", "+12.5%"]]
