"""A whole turn through lib.runs.jobs and lib.turn.stream, with the real SDK against the emulator."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from lib.client import make_client
from lib.emulator import Bash, Fault, Pause, Python, Text
from lib.runs import enqueue, jobs
from lib.settings import Settings
from lib.transcript import CodeCell, GeneratedFile, Notice, Output, RunError
from lib.transcript import Text as TextItem
from tests.support.runs import items_of, messages_requests, run_to_end, upload

REPO = Path(__file__).resolve().parents[2]


def test_streamed_analysis_stores_text_code_stdout_and_png(emulator, settings, store):
    file_id = upload(settings, store)
    run_id = run_to_end(store, settings, "Give me a first look", [file_id])
    run = store.run(run_id)
    assert run.status == "done" and run.container_id.startswith("container_")
    items = items_of(store, run_id)
    assert any(isinstance(i, TextItem) and i.text for i in items)
    assert any(isinstance(i, CodeCell) and "pandas" in i.code and i.complete for i in items)
    outputs = [i for i in items if isinstance(i, Output)]
    assert any("4" in o.stdout and "Rows" in o.stdout for o in outputs), [o.stdout for o in outputs]
    pngs = [i for i in items if isinstance(i, GeneratedFile) and i.mime_type == "image/png"]
    assert pngs, "the chart was not downloaded"
    image = Image.open(settings.data_dir / pngs[0].path)
    assert image.format == "PNG" and image.width > 100
    arts, total = store.artifacts()
    assert total >= 1 and any(a.file_id == pngs[0].file_id for a in arts)
    turn = store.turns(run_id)[0]
    assert turn.usage.output_tokens > 0 and turn.usage.code_execution_requests >= 1
    assert any(b.get("type") == "server_tool_use" for b in turn.assistant_content)
    request = messages_requests(emulator)[0]
    assert request.json["tools"] == [{"type": "code_execution_20260521", "name": "code_execution"}]
    content = request.json["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "Give me a first look"}
    assert content[1]["type"] == "text" and "`sales.csv` (CSV, " in content[1]["text"]
    assert content[2] == {"type": "container_upload", "file_id": file_id}
    assert "container" not in request.json and request.json["stream"] is True
    assert all("anthropic-beta" not in r.headers for r in emulator.requests)


def test_pause_turn_is_continued_with_the_paused_content(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("Step one."), Python("print(6 * 7)"), Pause(), Text("Step two done.")])
    run_id = run_to_end(store, settings, "long job", [file_id])
    reqs = messages_requests(emulator)
    assert len(reqs) == 2
    assert reqs[1].json["messages"][-1]["role"] == "assistant"
    assert reqs[1].json["container"] == store.run(run_id).container_id
    texts = [i.text for i in items_of(store, run_id) if isinstance(i, TextItem)]
    assert texts == ["Step one.", "Step two done."]
    assert any(isinstance(i, Output) and i.stdout.strip() == "42" for i in items_of(store, run_id))
    assert store.turns(run_id)[0].requests == 2


def test_budget_reached_stops_continuing_a_paused_turn_and_refuses_follow_ups(emulator, settings, store):
    from dataclasses import replace

    file_id = upload(settings, store)
    emulator.queue_script([Text("Step one."), Python("print(6 * 7)"), Pause(), Text("Step two done.")])
    # the billed container minimum alone ($0.0042) is over this budget
    run_id = run_to_end(store, replace(settings, run_budget_usd=0.002), "long job", [file_id])
    assert store.run(run_id).budget_usd == 0.002
    assert len(messages_requests(emulator)) == 1, "the paused turn was continued past the budget"
    items = items_of(store, run_id)
    assert [i.text for i in items if isinstance(i, TextItem)] == ["Step one."]
    assert isinstance(items[-1], Notice) and "of its $0.0020 budget" in items[-1].text
    assert store.run(run_id).status == "done"

    with pytest.raises(enqueue.BudgetReachedError, match=r"of its \$0\.0020 budget"):
        jobs.start_turn(store, settings, run_id, "go on")
    assert len(store.turns(run_id)) == 1 and len(messages_requests(emulator)) == 1

    store.update_run(run_id, budget_usd=5.0)  # raised: the follow-up goes out
    emulator.queue_script([Text("Continuing.")])
    jobs.start_turn(store, settings, run_id, "continue")
    assert jobs.wait(run_id, 60)
    assert len(store.turns(run_id)) == 2 and len(messages_requests(emulator)) == 2
    assert [i.text for i in items_of(store, run_id, 1) if isinstance(i, TextItem)] == ["Continuing."]


def test_rate_limit_with_retry_after_is_retried_and_succeeds(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("status", status=429, retry_after_ms=20))
    run_id = run_to_end(store, settings, "q", [file_id])
    assert store.run(run_id).status == "done"
    reqs = messages_requests(emulator)
    assert [r.headers.get("x-stainless-retry-count") for r in reqs] == ["0", "1"]


def test_server_error_500_is_retried_and_succeeds(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("status", status=500, retry_after_ms=10))
    run_id = run_to_end(store, settings, "q", [file_id])
    assert store.run(run_id).status == "done"
    assert len(messages_requests(emulator)) == 2


def test_overloaded_beyond_retries_gives_a_clear_error(emulator, settings, store, monkeypatch):
    monkeypatch.setattr("lib.turn.stream.RETRY_DELAYS", ())
    file_id = upload(settings, store)
    emulator.inject(Fault("status", status=529, retry_after_ms=10, times=10))
    run_id = run_to_end(store, settings, "q", [file_id])
    run = store.run(run_id)
    assert run.status == "error" and "overloaded" in run.error.lower()
    errors = [i for i in items_of(store, run_id) if isinstance(i, RunError)]
    assert errors and errors[0].retryable and "Wait a minute" in errors[0].hint
    assert len(messages_requests(emulator)) == 3  # the SDK's own 2 retries


def test_stream_error_after_content_keeps_the_partial_transcript(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("Partial answer that arrives first."), Python("print(1)"), Text("never")])
    emulator.inject(Fault("stream_error", after_events=6))
    run_id = run_to_end(store, settings, "q", [file_id])
    assert store.run(run_id).status == "error"
    items = items_of(store, run_id)
    assert any(isinstance(i, TextItem) and "Partial answer" in i.text for i in items)
    assert isinstance(items[-1], RunError) and items[-1].title == "API overloaded"
    assert store.turns(run_id)[0].assistant_content, "the partial content is stored for resuming"
    assert len(messages_requests(emulator)) == 1, "a stream with content already shown is not silently re-run"


def test_stream_error_before_any_content_is_retried(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("stream_error", after_events=1))
    run_id = run_to_end(store, settings, "q", [file_id])
    assert store.run(run_id).status == "done"
    assert len(messages_requests(emulator)) == 2


def test_cut_stream_gives_an_error_and_keeps_what_arrived(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("Words before the cut."), Python("print(1)")])
    emulator.inject(Fault("cut", after_events=5))
    run_id = run_to_end(store, settings, "q", [file_id])
    run = store.run(run_id)
    assert run.status == "error"
    items = items_of(store, run_id)
    assert any(isinstance(i, TextItem) and "before the cut" in i.text for i in items)
    assert isinstance(items[-1], RunError) and items[-1].retryable


def test_slow_stream_still_completes(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("slow but sure")])
    emulator.inject(Fault("slow", delay=0.02))
    run_id = run_to_end(store, settings, "q", [file_id])
    assert store.run(run_id).status == "done"
    assert [i.text for i in items_of(store, run_id) if isinstance(i, TextItem)] == ["slow but sure"]


def test_expired_container_is_replaced_and_files_reattached(emulator, settings, store):
    file_id = upload(settings, store)
    run_id = run_to_end(store, settings, "first", [file_id])
    old = store.run(run_id).container_id
    emulator.expire_container(old)
    jobs.start_turn(store, settings, run_id, "again")
    assert jobs.wait(run_id, 60)
    reqs = messages_requests(emulator)
    assert reqs[-2].json["container"] == old
    assert "container" not in reqs[-1].json
    assert {"type": "container_upload", "file_id": file_id} in reqs[-1].json["messages"][-1]["content"]
    run = store.run(run_id)
    assert run.status == "done" and run.container_id and run.container_id != old
    notices = [i for i in items_of(store, run_id, 1) if isinstance(i, Notice)]
    assert notices and "new one was started" in notices[0].text


def test_bash_and_editor_steps_with_tool_version_20250825(emulator, settings, store):
    from dataclasses import replace

    from lib.emulator import Edit

    file_id = upload(settings, store)
    emulator.queue_script(
        [
            Edit(command="create", path="hello.py", file_text="print('hi from file')\n"),
            Bash("python3 hello.py"),
            Text("done"),
        ]
    )
    run_id = run_to_end(store, replace(settings, tool_version="code_execution_20250825"), "q", [file_id])
    assert messages_requests(emulator)[0].json["tools"][0]["type"] == "code_execution_20250825"
    cells = [i for i in items_of(store, run_id) if isinstance(i, CodeCell)]
    assert [c.tool for c in cells] == ["text_editor_code_execution", "bash_code_execution"]
    assert cells[0].operation == "create" and cells[0].path == "hello.py" and "hi from file" in cells[0].code
    assert cells[1].language == "bash"
    assert any(isinstance(i, Output) and i.stdout.strip() == "hi from file" for i in items_of(store, run_id))


def test_missing_key_is_a_clear_error(data_dir):
    from lib.client import MissingKeyError

    with pytest.raises(MissingKeyError, match="secrets.toml"):
        make_client(Settings(api_key="", data_dir=data_dir))


def test_stop_shuts_a_response_the_server_is_still_holding(emulator, settings, store):
    file_id = upload(settings, store)
    with emulator.held_analysis("q", ["sales.csv"]):
        run = jobs.new_run(store, settings, "q", [file_id])
        deadline = time.monotonic() + 10
        while not any(isinstance(i, TextItem) and i.text for i in items_of(store, run.id)):
            assert time.monotonic() < deadline, "the first words never arrived"
            time.sleep(0.02)
        started = time.monotonic()
        assert jobs.stop(run.id, store)
        # the emulator still holds the response open: only shutting it can end the turn this soon
        assert jobs.wait(run.id, 2), "Stop waited for the server"
        assert time.monotonic() - started < 2
        assert store.run(run.id).status == "stopped"
        items = items_of(store, run.id)
        assert isinstance(items[-1], Notice) and "Stopped" in items[-1].text
        assert store.turns(run.id)[0].status == "stopped"
