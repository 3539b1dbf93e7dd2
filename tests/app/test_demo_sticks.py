"""The offline demo sticks: kept in the URL, entered by its runs' URLs, offered again on the home page."""

from __future__ import annotations

from lib.storage.store import Store
from tests.support.apptest import ANALYZE, GALLERY, has_key, query_param, run, run_status
from tests.support.seed import CHART, seed_chart_run


def in_demo(at) -> bool:
    return any("Offline demo." in w.value for w in at.sidebar.warning)


def test_starting_the_demo_puts_it_in_the_url_and_a_new_session_stays_in_it(keyless_app, data_dir):
    at = run(keyless_app())
    at.button(key="home_start_demo").click()
    run(at)
    assert in_demo(at) and query_param(at, "demo") == "1"
    rid = seed_chart_run(data_dir / "demo", demo=True)

    # a reload of the gallery, or opening it in a new tab: a new session with the URL's parameters
    tab = keyless_app()
    tab.query_params["demo"] = "1"
    tab.switch_page(GALLERY)
    run(tab)
    assert in_demo(tab) and query_param(tab, "demo") == "1"
    assert [m.value for m in tab.markdown if m.value.startswith("**")] == [f"**{CHART}.png**"]

    tab = keyless_app()
    tab.query_params.update({"demo": "1", "run": rid})
    tab.switch_page(ANALYZE)
    run(tab)
    assert in_demo(tab) and run_status(tab) == "done" and len(tab.get("vega_lite_chart")) == 1


def test_a_demo_run_url_enters_the_demo_without_the_flag(keyless_app, data_dir):
    rid = seed_chart_run(data_dir / "demo", demo=True)
    at = keyless_app()
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    run(at)
    assert in_demo(at) and query_param(at, "demo") == "1" and query_param(at, "run") == rid
    assert run_status(at) == "done"
    assert not any("was not found" in w.value for w in at.warning)


def test_an_unknown_run_url_does_not_enter_the_demo(keyless_app, data_dir):
    seed_chart_run(data_dir / "demo", demo=True)
    at = keyless_app()
    at.query_params["run"] = "0" * 32
    at.switch_page(ANALYZE)
    run(at)
    assert not in_demo(at) and has_key(at, "button", "require_start_demo")


def test_home_offers_to_continue_a_demo_with_runs(keyless_app, data_dir):
    at = run(keyless_app())
    assert has_key(at, "button", "home_start_demo") and not has_key(at, "button", "home_continue_demo")
    seed_chart_run(data_dir / "demo", demo=True)
    seed_chart_run(data_dir / "demo", demo=True)
    Store(data_dir / "demo").as_owner("someone-else").create_run("Not yours", "m", "t", [])  # not counted
    at = run(keyless_app())
    assert any("The offline demo has 2 runs kept." in i.value for i in at.info)
    button = at.button(key="home_continue_demo")
    assert button.label == "Continue the demo" and not has_key(at, "button", "home_start_demo")
    button.click()
    run(at)
    assert in_demo(at) and query_param(at, "demo") == "1"
    # every link carries the demo along (a link opened in a new tab stays in it)
    links = at.get("page_link")
    assert {p.proto.label for p in links} >= {"Home", "Files", "Analyze", "Gallery"}
    assert all("demo=1" in p.proto.query_string.split("&") for p in links), [
        (p.proto.label, p.proto.query_string) for p in links
    ]


def test_leaving_is_the_way_out_and_sticks(keyless_app, data_dir):
    rid = seed_chart_run(data_dir / "demo", demo=True)
    at = keyless_app()
    at.query_params["run"] = rid
    at.switch_page(ANALYZE)
    run(at)
    assert in_demo(at)
    at.button(key="sidebar_leave_demo").click()
    run(at)
    assert not in_demo(at) and not query_param(at, "demo") and not query_param(at, "run")
    assert has_key(at, "button", "require_start_demo")
    # the same session opening the demo run's URL again does not slip back in
    at.query_params["run"] = rid
    run(at)
    assert not in_demo(at)
