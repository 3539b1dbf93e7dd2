"""Analyze page: a whole run and a follow-up, stop, navigation mid-run, expired containers, history, errors."""

from __future__ import annotations

import re

from lib.emulator import Fault, Python, Text
from lib.files import prompts
from lib.runs import jobs, recovery
from lib.storage.store import Store
from lib.transcript import CodeCell, Output
from lib.transcript import Text as TextItem
from tests.support.apptest import (
    ANALYZE,
    GALLERY,
    SALES_ROWS,
    finish,
    has_key,
    messages_posts,
    run,
    run_id,
    run_status,
    start_analysis,
    texts,
    upload_sales_and_open_analyze,
    wait_until,
)

FIRST_WORDS = "I'll load `monthly_sales.csv` with pandas"


def _assistant_md(at, turn: int = 0) -> list[str]:
    chats = [c for c in at.chat_message if c.name == "assistant"]
    return [m.value for m in chats[turn].markdown] if len(chats) > turn else []


def _container_from_page(at) -> str:
    for c in at.caption:
        m = re.search(r"Container `(container_[A-Za-z0-9]+)`", c.value)
        if m:
            return m.group(1)
    return ""


def _file_id(at) -> str:
    return at.multiselect(key="analyze_files").value[0]


# --- 2. a whole analysis and a follow-up ----------------------------------------------------------------------


def test_run_and_follow_up(app, emulator):
    at = upload_sales_and_open_analyze(app)
    assert at.title[0].value == "Analyze"
    file_id = _file_id(at)
    assert at.text_area(key="analyze_question").value == ""
    assert at.button(key="analyze_run").disabled  # no question yet
    at.button(key="prompt_first_look").click()
    run(at)
    question = at.text_area(key="analyze_question").value
    assert question.startswith("Give me a first look at this data")
    assert not at.button(key="analyze_run").disabled
    rid = start_analysis(at, prompt=None)
    finish(at, rid)

    assert run_status(at) == "done"
    users = [c for c in at.chat_message if c.name == "user"]
    assert users[0].markdown[0].value == question
    said = _assistant_md(at)
    assert said[0].startswith(FIRST_WORDS)
    assert any(f"**{SALES_ROWS} rows**" in s and "**5 columns**" in s for s in said)
    python_cells = [c.value for c in at.code if c.language == "python"]
    assert python_cells and any("pd.read_csv" in c for c in python_cells)
    assert not any("Column types:" in c for c in python_cells), "the profile came with the question"
    assert any("savefig" in c for c in python_cells)
    stdout = [c.value for c in at.code if c.language in (None, "", "plaintext")]
    assert any("Saved chart: monthly_sales_" in s for s in stdout), stdout
    assert list(at.get("vega_lite_chart")), "the chart is not drawn from its Vega-Lite spec"
    assert not at.image, "the PNG is only the fallback of an interactive chart"
    labels = [d.label for d in at.download_button]
    assert any(lbl.endswith(".vl.json (Vega-Lite spec)") for lbl in labels), labels
    assert any(lbl.startswith("monthly_sales_") and ".png (" in lbl for lbl in labels), labels
    assert any(lbl.startswith("Download monthly_sales_summary.csv") for lbl in labels), labels
    summary = at.dataframe[0].value  # the generated summary table, previewed with readable numbers
    assert list(summary["column"]) == ["date", "region", "product", "units", "revenue"]
    means = [str(v) for v in summary["mean"] if str(v)]
    assert means and all(len(v.partition(".")[2]) <= 4 for v in means), means
    usage = [c.value for c in at.caption if "input ·" in c.value and "output tokens" in c.value]
    assert usage and re.search(
        r"\d[\d,]* input · \d[\d,]* output tokens · 1 code execution · est\. \$\d+\.\d+", usage[0]
    ), usage
    container = _container_from_page(at)
    assert container and container in emulator.containers

    # follow-up in the same container
    at.chat_input(key="analyze_followup").set_value("Which columns move together? Show the correlation.")
    run(at)
    finish(at, rid)
    assert run_status(at) == "done"
    users = [c for c in at.chat_message if c.name == "user"]
    assert [u.markdown[0].value for u in users] == [question, "Which columns move together? Show the correlation."]
    second = _assistant_md(at, 1)
    assert second and second[0].startswith("Let me check what is already in `outputs/`")
    assert any("earlier file(s) are still there" in s for s in second)
    assert len(list(at.get("vega_lite_chart"))) == 2
    live = [k for k in at._session_state.filtered_state if str(k).startswith("analyze_live_")]
    assert live == [f"analyze_live_{rid}"], "one live-turn record per run, not one per watched turn"

    posts = messages_posts(emulator)
    assert len(posts) == 2
    first_req, second_req = posts[0].json, posts[1].json
    assert "container" not in first_req
    assert {"type": "container_upload", "file_id": file_id} in first_req["messages"][0]["content"]
    assert second_req["container"] == container
    msgs = second_req["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[0]["content"][0] == {"type": "text", "text": question}
    sent_text = [b["text"] for b in msgs[1]["content"] if b["type"] == "text"]
    assert any(t.startswith(FIRST_WORDS) for t in sent_text)
    sent_code = [b["input"]["code"] for b in msgs[1]["content"] if b["type"] == "server_tool_use"]
    assert [c.strip() for c in sent_code] == [c.strip() for c in python_cells[:2]]
    assert msgs[2]["content"] == [{"type": "text", "text": "Which columns move together? Show the correlation."}]
    for r in emulator.requests:
        assert "anthropic-beta" not in {k.lower() for k in r.headers}, (r.method, r.path)


def test_the_drivers_target_is_offered_only_with_the_drivers_prompt(app):
    at = upload_sales_and_open_analyze(app)
    assert not has_key(at, "selectbox", "analyze_target"), "no Drivers prompt chosen yet"
    at.button(key="prompt_drivers").click()
    run(at)
    target = at.selectbox(key="analyze_target")
    assert target.label == "Target column for 'Drivers'" and "revenue" in target.options
    target.select("revenue")
    run(at)
    assert at.text_area(key="analyze_question").value == prompts.ready("drivers", "revenue")
    at.button(key="prompt_trends").click()
    run(at)
    assert not has_key(at, "selectbox", "analyze_target")
    at.button(key="prompt_drivers").click()  # back to Drivers: the chosen target is kept
    run(at)
    assert at.text_area(key="analyze_question").value == prompts.ready("drivers", "revenue")
    at.selectbox(key="analyze_target").select("")
    run(at)
    assert at.text_area(key="analyze_question").value == prompts.ready("drivers")
    at.text_area(key="analyze_question").input("My own question")
    run(at)
    assert not has_key(at, "selectbox", "analyze_target"), "a question of one's own has no Drivers target"


# --- 3. stop mid-run ------------------------------------------------------------------------------------------


def test_stop_mid_run_keeps_partial_text(make_app, emulator, data_dir):
    at = run(make_app(emulator))
    at = upload_sales_and_open_analyze(at)
    question = "Give me a first look at this data."
    # the run cannot get past its first sentence before Stop is pressed
    with emulator.held_analysis(question, ["monthly_sales.csv"]):
        rid = start_analysis(at, question, prompt=None)
        wait_until(at, lambda a: any(s.startswith(FIRST_WORDS[:20]) for s in _assistant_md(a)), timeout=15)
        assert has_key(at, "button", "analyze_stop")
        assert run_status(at) == "running"
        at.button(key="analyze_stop").click()
        run(at)
        assert not jobs.is_active(rid, Store(data_dir))
    wait_until(at, lambda a: run_status(a) == "stopped", timeout=10)
    said = _assistant_md(at)
    assert any(s.startswith("I'll load") for s in said), said
    assert any("Stopped. Everything received before you pressed Stop is kept." in w.value for w in at.warning)
    assert not at.image
    assert not has_key(at, "button", "analyze_stop")
    assert has_key(at, "chat_input", "analyze_followup")


# --- 4. navigating away mid-run -------------------------------------------------------------------------------


def test_navigation_mid_run_then_back_shows_result(make_app, emulator, data_dir):
    at = run(make_app(emulator))
    at = upload_sales_and_open_analyze(at)
    question = "Give me a first look at this data."
    # the run stays live until the test is back on its page
    with emulator.held_analysis(question, ["monthly_sales.csv"]):
        rid = start_analysis(at, question, prompt=None)
        assert run_status(at) == "running"
        at.switch_page(GALLERY)
        run(at)
        assert at.title[0].value == "Gallery"
        assert jobs.is_active(rid, Store(data_dir)), "leaving the page must not stop the run"
        at.switch_page(ANALYZE)
        if run_id(at) != rid:
            at.query_params["run"] = rid
        run(at)
        assert run_id(at) == rid
        assert jobs.is_active(rid, Store(data_dir))
    finish(at, rid, timeout=40)
    assert run_status(at) == "done"
    assert list(at.get("vega_lite_chart"))
    assert any(f"**{SALES_ROWS} rows**" in s for s in _assistant_md(at))


# --- 5. expired container on a follow-up ----------------------------------------------------------------------


def test_expired_container_follow_up_starts_new_one(app, emulator):
    at = upload_sales_and_open_analyze(app)
    file_id = _file_id(at)
    emulator.queue_script([Text("First answer.")])
    rid = start_analysis(at, "Quick look please", prompt=None)
    finish(at, rid)
    old = _container_from_page(at)
    assert old
    emulator.expire_container(old)
    emulator.queue_script([Text("Second answer in a fresh container.")])
    at.chat_input(key="analyze_followup").set_value("And now?")
    run(at)
    finish(at, rid)
    assert run_status(at) == "done"
    notice = [w.value for w in at.warning if "container could no longer be used" in w.value]
    assert notice and "files were attached to it again" in notice[0]
    assert "Second answer in a fresh container." in _assistant_md(at, 1)
    new = _container_from_page(at)
    assert new and new != old

    posts = messages_posts(emulator)
    assert len(posts) == 3
    failing, retry = posts[1].json, posts[2].json
    assert failing["container"] == old
    assert "container" not in retry
    last_user = retry["messages"][-1]
    assert last_user["role"] == "user"
    assert {"type": "container_upload", "file_id": file_id} in last_user["content"]
    assert {"type": "text", "text": "And now?"} in last_user["content"]


# --- 6. budget ------------------------------------------------------------------------------------------------


def test_budget_reached_refuses_follow_up_until_raised(app, emulator):
    at = upload_sales_and_open_analyze(app)
    at.number_input(key="analyze_budget").set_value(0.01)
    rid = start_analysis(at, "Give me a first look at this data.", prompt=None)  # about $0.05
    finish(at, rid)
    usage = [c.value for c in at.caption if "est. $" in c.value and "budget" in c.value]
    assert usage and usage[0].endswith("of $0.0100 budget"), usage
    assert any("of its $0.0100 budget. Raise the budget to ask a follow-up." in w.value for w in at.warning), texts(at)

    at.chat_input(key="analyze_followup").set_value("And the next step?")
    run(at)
    errors = [e.value for e in at.error]
    assert errors and "Budget reached" in errors[0] and "Raise the run's budget" in errors[0], errors
    assert len(messages_posts(emulator)) == 1

    at.number_input(key=f"analyze_run_budget_{rid}").set_value(2.0)
    at.button(key="analyze_budget_save").click()
    run(at)
    emulator.queue_script([Text("Next step done.")])
    at.chat_input(key="analyze_followup").set_value("And the next step?")
    run(at)
    finish(at, rid)
    assert "Next step done." in _assistant_md(at, 1)
    assert len(messages_posts(emulator)) == 2
    assert not any("Raise the budget" in w.value for w in at.warning)
    assert any(c.value.endswith("of $2.00 budget") for c in at.caption)


# --- 8. server restart ----------------------------------------------------------------------------------------


def test_run_left_running_by_dead_process_shows_interrupted(make_app, emulator, data_dir):
    store = Store(data_dir)
    run_ = store.create_run("What happened before the crash?", "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(run_.id, "What happened before the crash?", [{"type": "text", "text": "x"}])
    store.put_item(run_.id, idx, 0, TextItem(text="Partial words before the crash"))
    store.put_item(
        run_.id,
        idx,
        1,
        CodeCell(
            tool_use_id="srvtoolu_1", tool="code_execution", code="print(41 + 1)", language="python", complete=True
        ),
    )
    store.put_item(run_.id, idx, 2, Output(tool_use_id="srvtoolu_1", stdout="42\n"))
    assert store.run(run_.id).status == "running"
    recovery._recovered.discard(str(data_dir))
    at = run(make_app(emulator))
    at.switch_page(ANALYZE)
    at.query_params["run"] = run_.id
    run(at)
    assert run_status(at) == "interrupted"
    assert "Partial words before the crash" in _assistant_md(at)
    assert [c.value for c in at.code if c.language == "python"] == ["print(41 + 1)"]
    assert any(c.value == "42" for c in at.code)
    assert not has_key(at, "button", "analyze_stop")
    assert store.run(run_.id).status == "interrupted"


# --- 9. run history -------------------------------------------------------------------------------------------


def test_reopen_old_run_and_unknown_run(app, emulator, make_app):
    at = upload_sales_and_open_analyze(app)
    emulator.queue_script([Text("An answer worth keeping.")])
    rid = start_analysis(at, "Remember this question", prompt=None)
    finish(at, rid)
    # a new browser session: the home page lists it under Recent runs, and its URL opens it
    other = run(make_app(emulator))
    recent = [p.proto for p in other.get("page_link") if p.proto.label == "Remember this question"]
    assert recent and recent[0].help == "Remember this question", [p.proto.label for p in other.get("page_link")]
    # one line per run: its status, its title, when and which model, side by side
    assert any(m.value == ":green[● done]" for m in other.markdown)
    assert any(c.value.endswith(" · claude-sonnet-4-6") for c in other.caption), [c.value for c in other.caption]
    other.switch_page(ANALYZE)
    other.query_params["run"] = rid
    run(other)
    assert run_status(other) == "done"
    assert other.chat_message[0].markdown[0].value == "Remember this question"
    assert "An answer worth keeping." in _assistant_md(other)
    assert other.button(key=f"analyze_open_{rid}").disabled  # the run shown, in the sidebar's list
    # an unknown id: a warning and the new-run form
    other.query_params["run"] = "0" * 32
    run(other)
    assert any("That run was not found" in w.value for w in other.warning)
    assert other.title[0].value == "Analyze"
    assert has_key(other, "text_area", "analyze_question") and has_key(other, "button", "analyze_run")


# --- 10. errors -----------------------------------------------------------------------------------------------


def test_overloaded_beyond_retries_shows_error_and_keeps_transcript(make_app, emulator):
    at = run(make_app(emulator, ANALYST_MAX_RETRIES="0"))
    at = upload_sales_and_open_analyze(at)
    emulator.queue_script([Text("The first answer stays.")])
    rid = start_analysis(at, "First question", prompt=None)
    finish(at, rid)
    emulator.inject(Fault("status", status=529, times=5))
    at.chat_input(key="analyze_followup").set_value("Second question")
    run(at)
    finish(at, rid, timeout=30)
    assert run_status(at) == "error"
    errors = [e.value for e in at.error]
    assert errors and "API overloaded" in errors[0] and "Wait a minute and ask again" in errors[0]
    assert "The first answer stays." in _assistant_md(at, 0)
    assert [c.markdown[0].value for c in at.chat_message if c.name == "user"] == ["First question", "Second question"]
    assert any("You can ask again below" in c.value for c in at.caption)
    assert has_key(at, "chat_input", "analyze_followup")
    assert len(messages_posts(emulator)) >= 3  # the app retried before giving up


def test_stream_error_mid_answer_keeps_text_received(app, emulator):
    at = upload_sales_and_open_analyze(app)
    words = " ".join(f"word{i}" for i in range(200))
    emulator.queue_script([Text(words), Python("print('never')")])
    emulator.inject(Fault("stream_error", after_events=8))
    rid = start_analysis(at, "Tell me something", prompt=None)
    finish(at, rid)
    assert run_status(at) == "error"
    said = _assistant_md(at)
    assert said and said[0].startswith("word0 word1") and words.startswith(said[0].rstrip())
    assert len(said[0]) < len(words)
    errors = [e.value for e in at.error]
    assert len(errors) == 1, texts(at)
    assert "API overloaded" in errors[0] and "everything received so far is kept" in errors[0]
    assert not [c for c in at.code if c.value == "print('never')"]


def test_follow_up_after_stopped_first_turn_still_has_the_files(app, emulator):
    at = upload_sales_and_open_analyze(app)
    file_id = _file_id(at)
    emulator.queue_script([Text("Starting a long computation."), Python("import time\ntime.sleep(10)")])
    rid = start_analysis(at, "Slow question", prompt=None)
    wait_until(at, lambda a: "Starting a long computation." in _assistant_md(a), timeout=15)
    at.button(key="analyze_stop").click()
    run(at)
    wait_until(at, lambda a: run_status(a) == "stopped", timeout=10)
    emulator.queue_script([Text("Follow-up answer.")])
    at.chat_input(key="analyze_followup").set_value("Try again, faster")
    run(at)
    finish(at, rid)
    assert "Follow-up answer." in _assistant_md(at, 1)
    follow = messages_posts(emulator)[-1].json
    uploads = {b.get("file_id") for b in follow["messages"][-1]["content"] if b.get("type") == "container_upload"}
    # the stopped turn never learned its container, so the follow-up starts a new one with the run's files
    assert "container" not in follow and file_id in uploads, follow.get("container")


def test_broken_generated_image_and_every_block_kind_render_without_error(app, emulator):
    from lib.emulator import Bash, Edit, RawBlock, ToolFailure

    at = upload_sales_and_open_analyze(app)
    emulator.queue_script(
        [
            Python("import os\nopen(os.path.join(os.environ['OUTPUT_DIR'], 'broken.png'), 'wb').write(b'not a png')"),
            Bash("echo to-stderr >&2; exit 3"),
            Edit(command="create", path="notes.txt", file_text="one\ntwo\n"),
            Edit(command="str_replace", path="notes.txt", old_str="two", new_str="three"),
            Edit(command="view", path="notes.txt"),
            ToolFailure(tool="bash_code_execution", error_code="execution_time_exceeded"),
            RawBlock({"type": "mystery_block_2027", "payload": 1}),
            Text("All done."),
        ]
    )
    rid = start_analysis(at, "Try everything")
    finish(at, rid)
    shown = texts(at)
    assert any("broken.png" in w.value and "not a readable image" in w.value for w in at.warning)
    assert any(b.label.startswith("Download broken.png") for b in at.download_button)
    assert any(c.value == "to-stderr" for c in at.code) and any("stderr" in c.value for c in at.caption)
    assert any("return code 3" in e.value for e in at.error)
    assert any("execution_time_exceeded" in e.value and "time limit" in e.value for e in at.error)
    assert any("- two" in c.value and "+ three" in c.value for c in at.code)
    assert any(c.value.startswith("one") and "three" in c.value for c in at.code)
    assert any("Unsupported block" in e.label and "mystery_block_2027" in e.label for e in at.expander)
    assert "All done." in " ".join(shown)


def test_a_cut_download_shows_on_its_file_and_retry_fetches_it(app, emulator):
    at = upload_sales_and_open_analyze(app)
    chart = (
        "import matplotlib; matplotlib.use('Agg')\nimport matplotlib.pyplot as plt, os\n"
        "os.makedirs('outputs', exist_ok=True)\nplt.plot([1, 3, 2]); plt.savefig('outputs/trend.png')\nprint('ok')"
    )
    emulator.inject(Fault("cut", path="/v1/files/*/content"))
    emulator.queue_script([Python(chart), Text("The trend chart is saved.")])
    rid = start_analysis(at, "Plot the trend", prompt=None)
    finish(at, rid)
    assert run_status(at) == "done", texts(at)
    assert "The trend chart is saved." in _assistant_md(at)
    warning = [w.value for w in at.warning if "Could not fetch generated file `trend.png`" in w.value]
    assert warning and "connection" in warning[0].lower(), texts(at)
    assert not at.image
    retry = [b for b in at.button if b.label == "Retry download"]
    assert len(retry) == 1
    retry[0].click()
    run(at)
    assert not [w for w in at.warning if "Could not fetch" in w.value]
    assert at.image and at.image[0].value[0].endswith(".png")


# --- 11. sharing ----------------------------------------------------------------------------------------------


def test_share_toggle_writes_only_when_the_owner_flips_it(make_app, emulator, data_dir, monkeypatch):
    from lib import identity
    from lib.storage.users import store_for
    from lib.ui import signin

    carol = identity.from_claims({"iss": "https://idp.example.com", "sub": "c", "email": "c@example.com"}, frozenset())
    monkeypatch.setattr(signin, "current_user", lambda admins: carol)
    store = store_for(Store(data_dir), carol)
    done = store.create_run("A finished question", "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(done.id, "A finished question", [])
    store.update_turn(done.id, idx, status="done")
    store.update_run(done.id, status="done")

    at = run(make_app(emulator))
    at.switch_page(ANALYZE)
    at.query_params["run"] = done.id
    run(at)
    toggle = at.toggle(key=f"analyze_share_{done.id}")
    assert toggle.value is False
    # shared from another tab: this page's toggle still says off, and a rerun must not unshare the run
    store.update_run(done.id, shared=True)
    run(at)
    assert store.run(done.id).shared
    assert at.toggle(key=f"analyze_share_{done.id}").value is True
    assert any("Link to share" in c.value for c in at.caption)
    # the owner's own flip is saved, and only then
    at.toggle(key=f"analyze_share_{done.id}").set_value(False)
    run(at)
    assert not store.run(done.id).shared and not any("Link to share" in c.value for c in at.caption)
    at.toggle(key=f"analyze_share_{done.id}").set_value(True)
    run(at)
    assert store.run(done.id).shared and any("Link to share" in c.value for c in at.caption)
