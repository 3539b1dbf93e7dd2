"""Runs as pages and the CLI start them (lib.runs.jobs): follow-ups, a busy run, Stop, and a queued turn run by a
worker, with the real SDK against the emulator."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from lib.emulator import Emulator, Pacing, Python, Text
from lib.runs import enqueue, execute, jobs
from lib.settings import Settings
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import ACTIVE
from lib.storage.scope import Scope
from lib.storage.store import Store
from lib.transcript import CodeCell, GeneratedFile, Notice, Output
from lib.transcript import Text as TextItem
from tests.support.runs import items_of, messages_requests, run_to_end, upload


def test_follow_up_reuses_container_and_sees_earlier_files(emulator, settings, store):
    file_id = upload(settings, store)
    run_id = run_to_end(store, settings, "First look", [file_id])
    container = store.run(run_id).container_id
    jobs.start_turn(store, settings, run_id, "What files are there now?")
    assert jobs.wait(run_id, 60)
    second = messages_requests(emulator)[-1].json
    assert second["container"] == container
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"]
    assert not any(b.get("type") == "container_upload" for b in second["messages"][2]["content"])
    first_pngs = [i.filename for i in items_of(store, run_id, 0) if isinstance(i, GeneratedFile)]
    later_stdout = "".join(i.stdout for i in items_of(store, run_id, 1) if isinstance(i, Output))
    assert first_pngs and all(name in later_stdout for name in first_pngs)
    assert store.run(run_id).status == "done"


def test_second_turn_while_busy_is_refused(data_dir):
    with Emulator(pacing=Pacing(code_delay=2.0)) as emu:
        settings = Settings(api_key="k", base_url=emu.url, data_dir=data_dir, max_retries=0)
        store = Store(data_dir)
        file_id = upload(settings, store)
        run = jobs.new_run(store, settings, "q", [file_id])
        with pytest.raises(jobs.RunBusyError):
            jobs.start_turn(store, settings, run.id, "again")
        jobs.stop(run.id, store)
        jobs.wait(run.id, 10)


def test_stop_mid_run_keeps_what_arrived(data_dir, tmp_path):
    with Emulator(pacing=Pacing(text_chunk_delay=0.01, code_delay=5.0)) as emu:
        settings = Settings(api_key="k", base_url=emu.url, data_dir=data_dir, max_retries=0)
        store = Store(data_dir)
        file_id = upload(settings, store)
        emu.queue_script([Text("Looking at the data now."), Python("print('slow')"), Text("never shown")])
        run = jobs.new_run(store, settings, "q", [file_id])
        deadline = time.monotonic() + 10
        while not any(isinstance(i, CodeCell) for i in items_of(store, run.id)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert jobs.stop(run.id, store)
        assert jobs.wait(run.id, 10)
        assert store.run(run.id).status == "stopped"
        items = items_of(store, run.id)
        assert any(isinstance(i, TextItem) and "Looking at the data" in i.text for i in items)
        assert isinstance(items[-1], Notice) and "Stopped" in items[-1].text
        assert not any(isinstance(i, TextItem) and "never" in i.text for i in items)
        assert not any(isinstance(i, Output) for i in items), "Stop returned only after the 5 s code step ended"


def test_a_queued_turn_stores_no_history_and_the_worker_sends_the_earlier_turns(emulator, settings, store):
    file_id = upload(settings, store)
    emulator.queue_script([Text("First answer.")])
    run_id = run_to_end(store, settings, "First look", [file_id])
    emulator.queue_script([Text("Second answer.")])
    idx = enqueue.queue_turn(store, settings, run_id, "And now?")
    claim = store.as_owner(store.owner, admin=True).claim_turn("test", LEASE_SECONDS, only=(run_id, idx))
    assert claim is not None
    assert "history" not in claim.request and claim.request["user_content"][0]["text"] == "And now?"

    execute.start_local(store, settings, claim)
    assert jobs.wait(run_id, 60)
    assert store.run(run_id).status == "done"
    first, second = (r.json for r in messages_requests(emulator))
    assert second["messages"][0] == first["messages"][0]
    assert second["messages"][1]["role"] == "assistant"
    assert second["messages"][1]["content"][-1]["text"] == "First answer."
    assert second["messages"][2]["content"][0] == {"type": "text", "text": "And now?"}


def test_whoever_sees_a_run_settled_can_ask_its_follow_up_at_once(emulator, settings, store, monkeypatch):
    """The run and its ending turn are written together: after every write, a run that reads as settled has no
    turn still running (which would refuse the follow-up as busy)."""
    seen: list[tuple[str, str]] = []
    real = Scope._changing

    @contextmanager
    def watched(self, *signals):
        with real(self, *signals) as got:
            yield got
        for run in store.runs():
            state = store.turn_state(run.id)
            seen.append((run.status, state.status if state else ""))

    monkeypatch.setattr(Scope, "_changing", watched)
    run_id = run_to_end(store, settings, "First look", [upload(settings, store)])
    assert store.run(run_id).status == "done"
    assert ("done", "done") in seen
    assert not [s for s in seen if s[0] not in ACTIVE and s[1] in ACTIVE], seen
