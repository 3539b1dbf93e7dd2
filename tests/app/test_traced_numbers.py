"""Traced numbers on the Analyze page: an untraced number marked in the answer, the count in the turn's footer,
and the list of numbers with the line that printed each and a link to its cell."""

from __future__ import annotations

from lib.transcript import CodeCell, Output, Text
from lib.ui.traced import marked
from tests.support.apptest import ANALYZE, finish, run, start_analysis, upload_sales_and_open_analyze
from tests.support.seed import seed_traced_run

FORECAST = "Forecast next month's units."


def _assistant(at, turn: int = 0):
    return [c for c in at.chat_message if c.name == "assistant"][turn]


def test_a_demo_projection_is_marked_and_counted(app, emulator):
    at = upload_sales_and_open_analyze(app)
    rid = start_analysis(at, FORECAST, prompt=None)
    finish(at, rid)
    said = _assistant(at)
    answer = next(m.value for m in said.markdown if m.value.startswith("Average `units` was"))
    assert answer.endswith("At that pace the next month should come in at :orange-background[155\\.8].")
    assert "154.67" in answer and ":orange-background[154" not in answer  # traced numbers are left as they are
    footer = [c.value for c in said.caption if "tokens" in c.value]
    assert footer and footer[-1].endswith(" · 3 of 4 numbers traced")
    [numbers] = [e for e in said.expander if e.label.startswith("Numbers")]
    assert numbers.label == "Numbers · 3 of 4 numbers traced"
    listed = numbers.markdown[0].value.splitlines()
    assert listed == [
        "- `154.67` exact · [cell 1.1](#cell-1-1), output line 4: `2024-12: 154.67`",
        "- `+1.10` exact · [cell 1.1](#cell-1-1), output line 5: `Mean change per month over the last 12: +1.10`",
        "- `12` exact · [cell 1.1](#cell-1-1), output line 5: `Mean change per month over the last 12: +1.10`",
        "- :orange-background[155\\.8] untraced: no output before it shows this number",
    ]
    assert [c.value for c in numbers.caption] == ["Not counted: 2024 (date or time); 12 (date or time)."]
    assert "###### Cell 1.1" in [m.value for m in said.markdown]  # the anchor the links go to


def test_a_run_seeded_in_the_store_shows_its_marks_after_a_reload(make_app, emulator, data_dir):
    items = [
        CodeCell(tool_use_id="c1", tool="code_execution", code="print(4500 * 0.125)", complete=True),
        Output(tool_use_id="c1", stdout="cost 4500\nshare 0.125\n"),
        Text(text="It cost $4,500, a 12.5% share; `print(99)` aside, the rest is *$7.25*."),
    ]
    run_id = seed_traced_run(data_dir, [items])

    at = run(make_app(emulator))
    at.switch_page(ANALYZE)
    at.query_params["run"] = run_id
    run(at)
    said = _assistant(at)
    answer = "It cost $4,500, a 12.5% share; `print(99)` aside, the rest is *:orange-background[\\$7\\.25]*."
    assert answer in [m.value for m in said.markdown]
    assert any(c.value.endswith(" · 2 of 3 numbers traced") for c in said.caption)


def test_marks_escape_the_number_and_leave_code_alone():
    text = "Fell `by 3` to −3.5 [see](https://x.test/12) or **1,234.5M**."
    from lib.tracing import trace_run

    (turn,) = trace_run([("Q", [Text(text=text)])]).turns
    assert [n.text for n in turn.numbers] == ["−3.5", "1,234.5M"]
    assert marked(text, turn.numbers) == (
        "Fell `by 3` to :orange-background[−3\\.5] [see](https://x.test/12) or **:orange-background[1\\,234\\.5M]**."
    )
    (after_colon,) = trace_run([("Q", [Text(text="ratio:7.25")])]).turns
    assert marked("ratio:7.25", after_colon.numbers) == "ratio:\u200b:orange-background[7\\.25]"
