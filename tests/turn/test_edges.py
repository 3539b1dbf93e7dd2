"""The real API's awkward edges, each played by the emulator to the real SDK, through lib.runs.jobs and lib.turn.stream."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lib.client import make_client
from lib.emulator import Fault, Pause, Python, Text
from lib.files.api import delete as delete_remote_file
from lib.models import available_models
from lib.runs import jobs
from lib.transcript import CodeCell, GeneratedFile, Notice, Output, RunError
from lib.transcript import Text as TextItem
from tests.support.runs import items_of, messages_requests, run_to_end, upload

CHART = (
    "import matplotlib; matplotlib.use('Agg')\n"
    "import matplotlib.pyplot as plt, os\n"
    "out = os.environ.get('OUTPUT_DIR', 'outputs'); os.makedirs(out, exist_ok=True)\n"
    "for name in ('first', 'second'):\n"
    "    plt.figure(); plt.plot([1, 2, 3]); plt.savefig(f'{out}/{name}.png'); plt.close()\n"
    "print('saved')\n"
)


def follow_up(store, settings, run_id: str, question: str) -> None:
    jobs.start_turn(store, settings, run_id, question)
    assert jobs.wait(run_id, 60)


@pytest.mark.parametrize(
    "fault",
    [
        Fault("refuse_container", status=500, times=3),  # untyped, and it outlives the SDK's two retries
        Fault("refuse_container", status=404),
        Fault("refuse_container", status=400),
    ],
    ids=["untyped-500", "404-naming-it", "400-naming-it"],
)
def test_a_refused_container_is_replaced_and_later_follow_ups_use_the_new_one(emulator, settings, store, fault):
    file_id = upload(settings, store)
    emulator.queue_script([Text("First answer.")])
    run_id = run_to_end(store, settings, "First look", [file_id])
    old = store.run(run_id).container_id
    assert old

    emulator.inject(fault)
    emulator.queue_script([Python("import os; print(sorted(os.listdir('.')))"), Text("Second answer.")])
    follow_up(store, settings, run_id, "And now?")

    run = store.run(run_id)
    assert run.status == "done", run.error
    assert run.container_id and run.container_id != old
    second = items_of(store, run_id, 1)
    notice = next(i for i in second if isinstance(i, Notice))
    assert "could no longer be used" in notice.text and "attached to it again" in notice.text
    assert any(isinstance(i, TextItem) and i.text == "Second answer." for i in second)
    assert any(isinstance(i, Output) and "sales.csv" in i.stdout for i in second), "the run's file is back"
    posts = messages_requests(emulator)
    refused = [p for p in posts[1:] if p.json.get("container") == old]
    assert len(refused) == fault.times
    retry = posts[-1].json
    assert "container" not in retry
    assert {"type": "container_upload", "file_id": file_id} in retry["messages"][-1]["content"]

    emulator.queue_script([Text("Third answer.")])
    follow_up(store, settings, run_id, "One more?")
    assert messages_requests(emulator)[-1].json["container"] == run.container_id, "never the refused id again"
    assert store.run(run_id).status == "done"


def test_a_container_expired_tool_result_restarts_the_turn_in_a_new_container(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("First answer.")])
    run_id = run_to_end(store, settings, "First look", [file_id])
    old = store.run(run_id).container_id

    emulator.inject(Fault("container_expired_result"))
    emulator.queue_script([Text("Let me look."), Python("print('in the old one')"), Text("Never seen.")])
    emulator.queue_script([Python("print('fresh container')"), Text("Done again.")])
    follow_up(store, settings, run_id, "Again please")

    assert store.run(run_id).status == "done"
    assert store.run(run_id).container_id not in ("", old)
    second = items_of(store, run_id, 1)
    assert any(isinstance(i, Notice) and "reported it as expired" in i.text for i in second)
    assert any(isinstance(i, Output) and "fresh container" in i.stdout for i in second)
    assert not any(isinstance(i, TextItem) and "Never seen" in i.text for i in second)
    retry = messages_requests(emulator)[-1].json
    assert "container" not in retry and retry["messages"][-1]["role"] == "user", "the refused attempt is not resent"


def test_a_download_cut_mid_body_fails_that_file_only_and_can_be_retried(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("cut", path="/v1/files/*/content"))
    emulator.queue_script([Python(CHART), Text("Both charts are saved.")])
    run_id = run_to_end(store, settings, "Two charts", [file_id])

    run = store.run(run_id)
    assert run.status == "done", run.error
    files = [i for i in items_of(store, run_id) if isinstance(i, GeneratedFile)]
    assert len(files) == 2
    broken, fine = files
    assert broken.error and broken.retryable and not broken.path
    assert fine.path and (settings.data_dir / fine.path).read_bytes()[:4] == b"\x89PNG"
    assert any(isinstance(i, TextItem) and i.text == "Both charts are saved." for i in items_of(store, run_id))
    artifacts_dir = settings.data_dir / "artifacts" / run_id
    assert sorted(p.name for p in artifacts_dir.iterdir()) == [fine.path.rsplit("/", 1)[-1]], "nothing half-written"
    assert [a.file_id for a in store.artifacts()[0]] == [fine.file_id]

    fixed = jobs.retry_file(store, settings, run_id, broken.file_id)
    assert fixed.path and not fixed.error
    assert (settings.data_dir / fixed.path).read_bytes()[:4] == b"\x89PNG"
    again = next(i for i in items_of(store, run_id) if isinstance(i, GeneratedFile) and i.file_id == broken.file_id)
    assert again.path == fixed.path
    assert {a.file_id for a in store.artifacts()[0]} == {broken.file_id, fine.file_id}


def test_a_file_marked_not_downloadable_is_not_fetched(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("not_downloadable"))
    emulator.queue_script([Python(CHART), Text("Saved.")])
    run_id = run_to_end(store, settings, "Two charts", [file_id])
    files = [i for i in items_of(store, run_id) if isinstance(i, GeneratedFile)]
    refused = [f for f in files if f.error]
    assert len(refused) == 1 and "not downloadable" in refused[0].error and not refused[0].retryable
    fetched = [r.path for r in emulator.requests if r.path.endswith("/content")]
    assert f"/v1/files/{refused[0].file_id}/content" not in fetched


def test_sparse_usage_keeps_the_cache_counts_of_message_start(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("sparse_usage"))
    emulator.queue_script([Text("Short answer.")])
    run_id = run_to_end(store, settings, "q", [file_id])
    usage = store.turns(run_id)[0].usage
    request_bytes = len(messages_requests(emulator)[0].body)
    # what the emulator sent in message_start (and left out of message_delta), see lib/emulator/GUESSES.md
    assert usage.input_tokens > 0
    assert usage.cache_creation_input_tokens == 1024 + usage.input_tokens
    assert usage.cache_read_input_tokens == 2048 + 2 * usage.input_tokens
    assert request_bytes > 0 and usage.output_tokens > 0


@pytest.mark.parametrize(
    ("error_type", "title", "requests", "status"),
    [
        ("invalid_request_error", "Request refused", 1, "error"),
        ("permission_error", "Permission denied", 1, "error"),
        ("api_error", None, 2, "done"),  # retryable, and nothing had arrived: sent again
        ("rate_limit_error", None, 2, "done"),
    ],
)
def test_stream_errors_are_named_by_type_and_only_retryable_ones_are_retried(
    emulator, settings, store, error_type, title, requests, status
):
    file_id = upload(settings, store)
    # after message_start, ping and the start of an empty text block: nothing shown yet
    emulator.inject(Fault("stream_error", error_type=error_type, after_events=3))
    emulator.queue_script([Text("Answer.")])
    run_id = run_to_end(store, settings, "q", [file_id])
    posts = messages_requests(emulator)
    assert len(posts) == requests
    assert [m["role"] for m in posts[-1].json["messages"]] == ["user"], "a failed attempt's content is not resent"
    assert store.run(run_id).status == status
    errors = [i for i in items_of(store, run_id) if isinstance(i, RunError)]
    if title:
        assert [e.title for e in errors] == [title] and not errors[0].retryable
    else:
        assert not errors


def test_a_retryable_stream_error_after_content_is_not_retried(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.inject(Fault("stream_error", error_type="overloaded_error", after_events=6))
    emulator.queue_script([Text("The first words arrive before the error does, in several pieces of text.")])
    run_id = run_to_end(store, settings, "q", [file_id])
    assert len(messages_requests(emulator)) == 1
    items = items_of(store, run_id)
    assert any(isinstance(i, TextItem) and i.text for i in items), "what arrived is kept"
    assert isinstance(items[-1], RunError) and items[-1].title == "API overloaded"


def test_a_model_missing_from_the_price_table_still_trips_the_budget(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("Step one."), Python("print(1)"), Pause(), Text("Step two.")])
    # under this budget: the billed container minimum ($0.0042), even with the tokens at Sonnet prices; over it:
    # the same tokens at the dearest known price
    cheap_budget = replace(settings, model="claude-mystery-9", run_budget_usd=0.006)
    run_id = run_to_end(store, cheap_budget, "long job", [file_id])
    assert len(messages_requests(emulator)) == 1, "a model with no known price was treated as free"
    assert any(isinstance(i, Notice) and "budget" in i.text for i in items_of(store, run_id))


def test_models_without_code_execution_are_not_offered(emulator, settings):
    models = available_models(make_client(settings), settings.model)
    assert "claude-3-haiku-20240307" not in models
    assert settings.model in models and len(models) > 1


@pytest.mark.parametrize("form", ["code_execution", "bash"])
def test_python_steps_work_in_either_block_form(emulator, settings, store, form):
    emulator.python_form = form
    file_id = upload(settings, store)
    emulator.queue_script([Python(CHART), Text("Done.")])
    run_id = run_to_end(store, settings, "q", [file_id])
    items = items_of(store, run_id)
    cell = next(i for i in items if isinstance(i, CodeCell))
    assert cell.tool == ("code_execution" if form == "code_execution" else "bash_code_execution")
    assert "savefig" in cell.code
    assert any(isinstance(i, Output) and "saved" in i.stdout for i in items)
    assert len([i for i in items if isinstance(i, GeneratedFile) and i.path]) == 2


def test_citations_are_kept_on_the_text(emulator, settings, store):
    file_id = upload(settings, store)
    cite = {
        "type": "char_location",
        "cited_text": "month,region,sales",
        "document_index": 0,
        "document_title": "sales.csv",
        "start_char_index": 0,
        "end_char_index": 18,
    }
    emulator.queue_script([Text("The header names three columns.", citations=[cite])])
    run_id = run_to_end(store, settings, "q", [file_id])
    text = next(i for i in items_of(store, run_id) if isinstance(i, TextItem))
    assert text.citations and text.citations[0]["cited_text"] == "month,region,sales"
    assert store.turns(run_id)[0].assistant_content[0]["citations"][0]["document_title"] == "sales.csv"


@pytest.mark.parametrize("gone", ["expired", "deleted"])
def test_a_follow_up_whose_file_is_gone_keeps_the_container_and_shows_the_file_error(emulator, settings, store, gone):
    file_id = upload(settings, store)
    emulator.queue_script([Text("First answer.")])
    run_id = run_to_end(store, settings, "First look", [file_id])
    container = store.run(run_id).container_id
    assert container
    if gone == "expired":
        emulator.expire_file(file_id)
    else:
        delete_remote_file(make_client(settings), file_id)

    emulator.queue_script([Text("Never sent.")])
    follow_up(store, settings, run_id, "And now?")

    run = store.run(run_id)
    assert run.status == "error"
    assert run.container_id == container, "a file error is not the container's"
    second = items_of(store, run_id, 1)
    assert not any(isinstance(i, Notice) and "could no longer be used" in i.text for i in second)
    errors = [i for i in second if isinstance(i, RunError)]
    assert len(errors) == 1 and file_id in errors[0].message
    posts = messages_requests(emulator)[1:]
    assert posts and all(p.json.get("container") == container for p in posts), "no container-less retry"


@pytest.mark.parametrize(
    "fault",
    [
        Fault("refuse_container", status=400),
        Fault("refuse_container", status=500, times=3),
        Fault("container_expired_result"),
    ],
    ids=["400-naming-it", "untyped-500", "expired-tool-result"],
)
def test_a_container_refused_on_a_continuation_ends_the_turn_with_a_readable_error(emulator, settings, store, fault):
    file_id = upload(settings, store)
    emulator.inject(fault)
    emulator.queue_script([Text("Step one."), Pause(), Python("print('in the old one')"), Text("Never seen.")])
    run_id = run_to_end(store, settings, "long job", [file_id])

    run = store.run(run_id)
    assert run.status == "error"
    assert run.container_id == "", "the refused container is forgotten"
    items = items_of(store, run_id)
    assert any(isinstance(i, TextItem) and i.text == "Step one." for i in items), "what arrived is kept"
    assert not any(isinstance(i, TextItem) and "Never seen" in i.text for i in items)
    errors = [i for i in items if isinstance(i, RunError)]
    assert [e.title for e in errors] == ["Container no longer usable"], [str(e) for e in errors]
    assert "paused work" in errors[0].message and "continue" in errors[0].hint
    posts = messages_requests(emulator)
    continuation = posts[1].json
    assert continuation.get("container") and continuation["messages"][-1]["role"] == "assistant"
    assert all(p.json.get("container") for p in posts[1:]), "no container-less retry of the paused work"

    emulator.queue_script([Text("Started again.")])
    follow_up(store, settings, run_id, "continue")
    assert store.run(run_id).status == "done"
    retry = messages_requests(emulator)[-1].json
    assert "container" not in retry
    assert {"type": "container_upload", "file_id": file_id} in retry["messages"][-1]["content"]
