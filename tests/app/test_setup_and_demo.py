"""No API key: setup help on every page, and the offline demo end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib import demo
from tests.support.apptest import (
    ANALYZE,
    FILES,
    GALLERY,
    SALES_ROWS,
    finish,
    has_key,
    run,
    run_status,
    start_analysis,
    texts,
)


def _help(at) -> str:
    found = [i.value for i in at.info if "No Anthropic API key is configured" in i.value]
    assert len(found) == 1, texts(at)
    return found[0]


def test_home_without_key_explains_setup(keyless_app):
    at = run(keyless_app())
    text = _help(at)
    assert "secrets.toml" in text and "environment variable" in text and "sidebar" in text
    assert "ANTHROPIC_API_KEY" in text
    assert any("No API key yet" in i.value for i in at.sidebar.info)
    assert at.button(key="home_start_demo").label == "Start the offline demo"
    assert any("It is not Claude" in c.value for c in at.caption)
    # samples cannot be analysed without a key
    assert at.button(key="sample_monthly_sales.csv").disabled


@pytest.mark.parametrize("page", [FILES, ANALYZE])
def test_files_and_analyze_stop_with_same_help(keyless_app, page):
    at = run(keyless_app())
    home_help = _help(at)
    at.switch_page(page)
    run(at)
    assert _help(at) == home_help
    assert has_key(at, "button", "require_start_demo")
    # the page stopped before drawing its own content
    assert not at.file_uploader and not has_key(at, "button", "analyze_run")
    assert not at.title


def test_gallery_without_key_still_opens(keyless_app):
    at = run(keyless_app())
    at.switch_page(GALLERY)
    at = run(at)
    assert at.title[0].value == "Gallery"


def test_offline_demo_whole_analysis(keyless_app, data_dir):
    at = run(keyless_app())
    at.button(key="home_start_demo").click()
    run(at)
    assert not has_key(at, "button", "home_start_demo")
    assert any("Offline demo." in w.value and "not Claude" in w.value for w in at.sidebar.warning)
    assert any("You are in the offline demo" in w.value for w in at.warning)
    assert any(str(Path(data_dir) / "demo") in c.value for c in at.caption), [c.value for c in at.caption]
    assert demo.running()
    sample = at.button(key="sample_monthly_sales.csv")
    assert not sample.disabled
    sample.click()
    run(at)
    at.switch_page(ANALYZE)  # AppTest does not follow st.switch_page by itself
    run(at)
    assert at.title[0].value == "Analyze"
    assert [o for o in at.multiselect(key="analyze_files").options if "monthly_sales.csv" in o]
    assert len(at.multiselect(key="analyze_files").value) == 1
    question = at.text_area(key="analyze_question").value
    assert question.startswith("Show the revenue trend and seasonality by region")
    assert (data_dir / "demo" / "uploads").is_dir() and not (data_dir / "uploads").exists()
    rid = start_analysis(at, prompt=None)
    finish(at, rid, timeout=40)
    assert run_status(at) == "done"
    assert any("Offline demo run" in c.value and "not Claude" in c.value for c in at.caption)
    said = [m.value for c in at.chat_message if c.name == "assistant" for m in c.markdown]
    assert said[0].startswith("I'll load `monthly_sales.csv`") and any(f"**{SALES_ROWS} rows**" in s for s in said)
    assert any("pd.read_csv" in c.value for c in at.code if c.language == "python")
    assert any(f"Rows: {SALES_ROWS}" in c.value for c in at.code if c.language not in ("python",))
    assert list(at.get("vega_lite_chart")), "the demo's chart is drawn from its Vega-Lite spec"


def test_a_malformed_setting_is_named_on_every_page(make_app):
    at = run(make_app(None, ANALYST_MAX_UPLOAD_MB="lots"))
    errors = [e.value for e in at.error]
    assert errors and "`ANALYST_MAX_UPLOAD_MB` is `lots`" in errors[0] and "secrets.toml" in errors[0], errors
    assert not at.exception
    at.switch_page(FILES)
    run(at)
    assert [e.value for e in at.error] == errors and not at.exception
