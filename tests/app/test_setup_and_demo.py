"""No API key: setup help on every page, and the offline demo end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib import demo
from lib.files import samples
from lib.runs import jobs
from lib.storage.store import Store
from lib.ui import demo_session
from tests.support.apptest import (
    ANALYZE,
    FILES,
    GALLERY,
    SALES_ROWS,
    finish,
    has_key,
    run,
    run_status,
    texts,
)

SAMPLE_QUESTION = samples.list_samples()[0].suggested_question


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
    # a sample is one click away, and says that without a key the demo answers it
    sample = at.button(key="sample_monthly_sales.csv")
    assert not sample.disabled and sample.label == "Analyze in the demo"
    assert any("No API key is set, so a sample is analysed by the offline demo" in c.value for c in at.caption)


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


def _sample_run(data_dir: Path) -> str:
    """The one run the demo's store holds, once a sample was clicked."""
    [one] = Store(data_dir / "demo").runs()
    return one.id


def test_one_click_on_a_sample_starts_the_demo_and_its_analysis(keyless_app, data_dir):
    at = run(keyless_app())
    at.button(key="sample_monthly_sales.csv").click()
    run(at)  # the click starts the demo, and the rerun in it uploads the sample and asks its question
    assert at.session_state[demo_session.STARTED]
    rid = _sample_run(data_dir)
    assert jobs.wait(rid, timeout=40)
    [turn] = Store(data_dir / "demo").turns(rid)
    assert turn.question == SAMPLE_QUESTION and turn.status == "done"


def test_offline_demo_whole_analysis(keyless_app, data_dir):
    at = run(keyless_app())
    at.button(key="home_start_demo").click()
    run(at)
    assert not has_key(at, "button", "home_start_demo")
    assert any("Offline demo." in w.value and "not Claude" in w.value for w in at.sidebar.warning)
    assert any("You are in the offline demo" in w.value for w in at.warning)
    assert any(str(Path(data_dir) / "demo") in c.value for c in at.caption), [c.value for c in at.caption]
    assert any("Model: `demo` (a scripted local analyst, no cost)" in c.value for c in at.sidebar.caption)
    assert demo.running()
    sample = at.button(key="sample_monthly_sales.csv")
    assert not sample.disabled and sample.label == "Analyze"
    sample.click()
    run(at)
    assert (data_dir / "demo" / "uploads").is_dir() and not (data_dir / "uploads").exists()
    rid = _sample_run(data_dir)
    at.query_params["run"] = rid  # AppTest does not follow st.switch_page by itself
    at.switch_page(ANALYZE)
    run(at)
    finish(at, rid, timeout=40)
    assert run_status(at) == "done"
    assert at.subheader[0].value == SAMPLE_QUESTION  # asked at once: one click from Home
    assert any("Offline demo run" in c.value and "not Claude" in c.value for c in at.caption)
    # a demo run shows no model and no cost: "demo" in the header and under every answer
    usage = [c.value for c in at.caption if "code execution" in c.value]
    assert usage and all(u.startswith("demo · ") and "no cost" in u and "$" not in u for u in usage), usage
    assert not any("claude-" in c.value for c in at.caption)
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
