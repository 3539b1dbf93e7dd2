"""Compare page: picks a replay's original by itself, says what to do without runs, redraws when runs change."""

from __future__ import annotations

from lib.runs import jobs
from lib.settings import Settings
from lib.storage.store import Store
from tests.support.apptest import run
from tests.support.runs import upload

COMPARE = "pages/5_Compare.py"
CSV = b"month,sales\n2024-01,100\n2024-02,120\n2024-03,90\n"
MORE = CSV + b"2024-04,130\n2024-05,150\n"


def _replayed(settings: Settings, store: Store) -> tuple[str, str]:
    old = upload(settings, store, "sales.csv", CSV)
    original = jobs.new_run(store, settings, "Give me a first look at sales.csv", [old])
    assert jobs.wait(original.id, 60)
    replay = jobs.start_replay(store, settings, original.id, {old: upload(settings, store, "sales_may.csv", MORE)})
    assert jobs.wait(replay.id, 60)
    return original.id, replay.id


def test_without_runs_the_page_says_how_to_make_a_comparison(app) -> None:
    app.switch_page(COMPARE)
    run(app)
    assert app.title[0].value == "Compare runs"
    assert "Replay on another file" in app.info[0].value


def test_a_replay_alone_in_the_url_is_compared_with_its_original(app, settings, store) -> None:
    original, replay = _replayed(settings, store)
    app.query_params["b"] = replay
    app.switch_page(COMPARE)
    run(app)
    assert app.selectbox[0].value == original and app.selectbox[1].value == replay
    said = " ".join(m.value for m in app.markdown)
    assert "**Original:** Give me a first look at sales.csv" in said
    assert "**Replay:** Give me a first look at sales.csv" in said
    table = app.table[0].value
    rows = table[table["Where"].str.contains("rows")]
    assert rows[["Original", "Replay", "Change", "Change %"]].values.tolist() == [["3", "5", "+2", "+66.7%"]]
    assert any("Cell 1 printed something different" in e.label for e in app.expander)

    app.toggle(key="compare_show_same").set_value(True)
    run(app)
    assert len(app.table[0].value) > len(table), "unchanged numbers are listed too"

    app.selectbox[0].set_value(replay)  # the replay beside itself: nothing changed
    run(app)
    assert app.query_params["a"] == replay
    assert any("No quoted number changed." in c.value for c in app.caption)


def test_each_side_says_its_model_and_cost_and_a_replay_names_the_file_it_swapped(app, settings, store) -> None:
    original, replay = _replayed(settings, store)
    app.query_params["b"] = replay
    app.switch_page(COMPARE)
    run(app)
    usage = [c.value for c in app.caption if "code execution" in c.value]
    assert len(usage) == 2 and all(u.startswith(f"{settings.model} · ") and " · est. $" in u for u in usage), usage
    app.query_params["run"] = replay
    app.switch_page("pages/2_Analyze.py")
    run(app)
    banner = [i.value for i in app.info if i.value.startswith("Replay of ")]
    assert banner == [
        "Replay of **Give me a first look at sales.csv** with `sales_may.csv` in place of `sales.csv` · 1 of 1 question(s) asked"
    ]
