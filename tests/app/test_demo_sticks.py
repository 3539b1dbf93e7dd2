"""The offline demo sticks: kept in the URL, entered by its runs' URLs, offered again on the home page."""

from __future__ import annotations

import pytest

from lib.store import Store
from tests.seed import CHART, seed_chart_run

from .conftest import ANALYZE, GALLERY, has_key, run, run_status


@pytest.fixture
def keyless(make_app):
    """A fresh browser session of the app with no key anywhere (what a reload or a new tab gets)."""

    def build():
        at = make_app()
        at.secrets["UNRELATED_SETTING"] = "1"
        return at

    return build


def in_demo(at) -> bool:
    return any("Offline demo." in w.value for w in at.sidebar.warning)


def param(at, name: str) -> str:
    value = at.query_params.get(name, "")
    return value[0] if isinstance(value, list) and value else value or ""


def test_starting_the_demo_puts_it_in_the_url_and_a_new_session_stays_in_it(keyless, data_dir):
    at = run(keyless())
    at.button(key="home_start_demo").click()
    run(at)
    assert in_demo(at) and param(at, "demo") == "1"
    rid = seed_chart_run(data_dir / "demo", demo=True)

    # a reload of the gallery, or opening it in a new tab: a new session with the URL's parameters
    tab = keyless()
    tab.query_params["demo"] = "1"
    tab.switch_page(GALLERY)
    run(tab)
    assert in_demo(tab) and param(tab, "demo") == "1"
    assert [m.value for m in tab.markdown if m.value.startswith("**")] == [f"**{CHART}.png**"]

    tab = keyless()
    tab.query_params.update({"demo": "1", "run": rid})
    tab.switch_page(ANALYZE)
    run(tab)
    assert in_demo(tab) and run_status(tab) == "done" and len(tab.get("vega_lite_chart")) == 1


def test_a_demo_run_url_enters_the_demo_without_the_flag(keyless, data_dir):
    rid = seed_chart_run(data_dir / "demo", demo=True)
    at = keyless()
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    run(at)
    assert in_demo(at) and param(at, "demo") == "1" and param(at, "run") == rid
    assert run_status(at) == "done"
    assert not any("was not found" in w.value for w in at.warning)


def test_an_unknown_run_url_does_not_enter_the_demo(keyless, data_dir):
    seed_chart_run(data_dir / "demo", demo=True)
    at = keyless()
    at.query_params["run"] = "0" * 32
    at.switch_page(ANALYZE)
    run(at)
    assert not in_demo(at) and has_key(at, "button", "require_start_demo")


def test_home_offers_to_continue_a_demo_with_runs(keyless, data_dir):
    at = run(keyless())
    assert has_key(at, "button", "home_start_demo") and not has_key(at, "button", "home_continue_demo")
    seed_chart_run(data_dir / "demo", demo=True)
    seed_chart_run(data_dir / "demo", demo=True)
    Store(data_dir / "demo").as_owner("someone-else").create_run("Not yours", "m", "t", [])  # not counted
    at = run(keyless())
    assert any("The offline demo has 2 runs kept." in i.value for i in at.info)
    button = at.button(key="home_continue_demo")
    assert button.label == "Continue the demo" and not has_key(at, "button", "home_start_demo")
    button.click()
    run(at)
    assert in_demo(at) and param(at, "demo") == "1"
    # every link carries the demo along (a link opened in a new tab stays in it)
    links = at.get("page_link")
    assert {p.proto.label for p in links} >= {"Home", "Files", "Analyze", "Gallery"}
    assert all("demo=1" in p.proto.query_string.split("&") for p in links), [
        (p.proto.label, p.proto.query_string) for p in links
    ]


def test_leaving_is_the_way_out_and_sticks(keyless, data_dir):
    rid = seed_chart_run(data_dir / "demo", demo=True)
    at = keyless()
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    run(at)
    assert in_demo(at)
    at.button(key="sidebar_leave_demo").click()
    run(at)
    assert not in_demo(at) and not param(at, "demo") and not param(at, "run")
    assert has_key(at, "button", "require_start_demo")
    # the same session opening the demo run's URL again does not slip back in
    at.query_params["run"] = rid
    run(at)
    assert not in_demo(at)
