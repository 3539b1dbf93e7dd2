"""Run names in the app: the owner renames a run from its page, the sidebar finds runs by name, question, file
and date, and Compare's pickers tell reruns apart and search the same way."""

from __future__ import annotations

import re
from datetime import datetime

from streamlit.testing.v1 import AppTest

from lib.storage.store import Store
from tests.support.apptest import ANALYZE, has_key, run
from tests.support.seed import seed_file, seed_run

COMPARE = "pages/5_Compare.py"
QUESTION = "How do sales move?"
NOV_30 = datetime(2026, 11, 30, 9, 15).timestamp()
DEC_3 = datetime(2026, 12, 3, 14, 5).timestamp()


def _open(app: AppTest, run_id: str) -> AppTest:
    app.switch_page(ANALYZE)
    app.query_params["run"] = run_id
    return run(app)


def _listed(app: AppTest) -> list[str]:
    """The sidebar's runs: each name with the line under it."""
    buttons = [b for b in app.sidebar.button if b.key and b.key.startswith("analyze_open_")]
    lines = [c.value for c in app.sidebar.caption if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d · ", c.value)]
    return [f"{b.label} · {line}" for b, line in zip(buttons, lines, strict=True)]


def test_the_owner_renames_a_run_from_its_page(app: AppTest, store: Store) -> None:
    sales = seed_file(store, "file_sales", "sales.csv")
    done = seed_run(store, QUESTION, [sales], DEC_3, answer="Sales rose.")
    _open(app, done.id)
    assert app.subheader[0].value == QUESTION
    box = app.text_input(key=f"analyze_name_{done.id}")
    assert box.value == QUESTION and box.max_chars == 200

    box.set_value("  Sales trend,\n  December  ")
    run(app.button(key=f"analyze_rename_save_{done.id}").click())
    assert store.run(done.id).name == "Sales trend, December"
    assert app.subheader[0].value == "Sales trend, December"
    assert app.text_input(key=f"analyze_name_{done.id}").value == "Sales trend, December"  # as kept
    assert _listed(app) == ["Sales trend, December · 2026-12-03 14:05 · sales.csv · done"]
    assert app.chat_message[0].markdown[0].value == QUESTION  # the question itself is unchanged

    app.text_input(key=f"analyze_name_{done.id}").set_value("   ")  # empty: the question again
    run(app.button(key=f"analyze_rename_save_{done.id}").click())
    assert store.run(done.id).name == QUESTION == store.run(done.id).title
    assert app.subheader[0].value == QUESTION and app.text_input(key=f"analyze_name_{done.id}").value == QUESTION


def test_a_reader_of_a_shared_run_gets_no_rename_control(app: AppTest, store: Store) -> None:
    theirs = store.as_owner("https://idp.example.com#someone-else")
    shared = seed_run(theirs, "Their question", [], DEC_3)
    theirs.update_run(shared.id, shared=True)
    _open(app, shared.id)
    assert any("Shared read-only" in i.value for i in app.info)
    assert app.subheader[0].value == "Their question"
    assert not has_key(app, "text_input", f"analyze_name_{shared.id}")
    assert not has_key(app, "button", f"analyze_rename_save_{shared.id}")


def test_the_sidebar_finds_runs_by_name_question_file_and_date(app: AppTest, store: Store) -> None:
    sales, costs = seed_file(store, "file_sales", "sales.csv"), seed_file(store, "file_costs", "costs.csv")
    first = seed_run(store, QUESTION, [sales], NOV_30)
    rerun = seed_run(store, QUESTION, [costs], DEC_3, status="error")
    store.rename_run(rerun.id, "Costs board pack")
    other = seed_run(store, "Which region grew most?", [sales], DEC_3 + 60)
    _open(app, first.id)
    assert _listed(app) == [
        "Which region grew most? · 2026-12-03 14:06 · sales.csv · done",
        "Costs board pack · 2026-12-03 14:05 · costs.csv · error",
        "How do sales move? · 2026-11-30 09:15 · sales.csv · done",
    ]
    assert app.sidebar.button(key=f"analyze_open_{first.id}").disabled  # the run shown

    def found(words: str) -> list[str]:
        run(app.sidebar.text_input(key="analyze_run_search").set_value(words))
        return _listed(app)

    assert found("board") == ["Costs board pack · 2026-12-03 14:05 · costs.csv · error"]
    # by the words of its question: the renamed rerun asked it too
    assert [o.split(" · ")[0] for o in found("sales move")] == ["Costs board pack", QUESTION]
    assert [o.split(" · ")[0] for o in found("SALES.CSV")] == ["Which region grew most?", QUESTION]
    assert [o.split(" · ")[0] for o in found("2026-12-03")] == ["Which region grew most?", "Costs board pack"]
    assert [o.split(" · ")[0] for o in found("2026-11")] == [QUESTION]
    assert any(c.value == "1 run matches." for c in app.sidebar.caption)
    assert found("nothing-like-this") == []
    assert any("No run matches “nothing-like-this”" in c.value for c in app.sidebar.caption)

    # a run found is opened by clicking it
    found("region")
    run(app.sidebar.button(key=f"analyze_open_{other.id}").click())
    assert app.query_params["run"] == other.id
    assert app.subheader[0].value == "Which region grew most?"


def test_compare_pickers_tell_reruns_apart_search_and_head_the_comparison_by_name(app: AppTest, store: Store) -> None:
    sales, costs = seed_file(store, "file_sales", "sales.csv"), seed_file(store, "file_costs", "costs.csv")
    first = seed_run(store, QUESTION, [sales], NOV_30, answer="Sales were 576 units.")
    rerun = seed_run(store, QUESTION, [sales, costs], DEC_3, answer="Sales were 600 units.")
    seed_run(store, "Unrelated", [costs], DEC_3 + 60)
    app.switch_page(COMPARE)
    run(app)
    before, after = app.selectbox[0], app.selectbox[1]
    assert before.options[1:] == [
        "Unrelated · 2026-12-03 14:06 · costs.csv · done",
        "How do sales move? · 2026-12-03 14:05 · sales.csv, costs.csv · done",
        "How do sales move? · 2026-11-30 09:15 · sales.csv · done",
    ]
    assert after.options == before.options

    run(app.text_input(key="compare_run_search").set_value("sales 2026-11"))
    assert app.selectbox[0].options == ["—", "How do sales move? · 2026-11-30 09:15 · sales.csv · done"]
    assert any(c.value.startswith("1 run matches “sales 2026-11”") for c in app.caption)
    run(app.selectbox[0].set_value(first.id))
    run(app.text_input(key="compare_run_search").set_value("costs.csv sales"))
    # the run chosen stays in the lists, beside what the search finds
    assert [o.split(" · ")[1] for o in app.selectbox[1].options[1:]] == ["2026-12-03 14:05", "2026-11-30 09:15"]
    run(app.selectbox[1].set_value(rerun.id))
    store.rename_run(first.id, "Sales, November data")
    store.rename_run(rerun.id, "Sales, December data")
    run(app)
    said = " ".join(m.value for m in app.markdown)
    assert "**Before:** Sales, November data" in said and "**After:** Sales, December data" in said


def test_the_sidebar_lists_the_most_recent_runs_and_says_a_search_finds_the_others(app: AppTest, store: Store) -> None:
    runs = [seed_run(store, f"Question {n}", [], NOV_30 + n * 60) for n in range(14)]
    _open(app, runs[0].id)
    listed = _listed(app)
    assert len(listed) == 12 and listed[0].startswith("Question 13 · ") and listed[-1].startswith("Question 2 · ")
    assert any(
        "The 12 most recently active runs are listed; search to find the others." in c.value for c in app.caption
    )
    run(app.sidebar.text_input(key="analyze_run_search").set_value("question"))
    assert any("More than 12 runs match" in c.value for c in app.sidebar.caption)
    run(app.sidebar.text_input(key="analyze_run_search").set_value("question 0"))
    assert [line.split(" · ")[0] for line in _listed(app)] == ["Question 10", "Question 0"]  # beyond the 12
