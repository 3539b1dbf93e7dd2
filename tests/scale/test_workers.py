"""Run workers on PostgreSQL: queued turns are claimed by worker processes, a Stop recorded anywhere lands
within a second, a worker killed mid-run leaves the run interrupted with its items, replicas may restart."""

from __future__ import annotations

import json
import signal
import time

import pytest

from lib.runs import jobs
from lib.runs.view import load_comparison
from lib.storage.queue import INTERRUPTED_BY_WORKER
from lib.storage.store import Store
from lib.transcript import GeneratedFile, Notice, Text
from tests.support.browser import REPO
from tests.support.team import Team

SAMPLE = REPO / "samples" / "monthly_sales.csv"

pytestmark = pytest.mark.postgres


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_of(store: Store, run_id: str) -> str:
    state = store.turn_state(run_id)
    return state.worker if state else ""


def test_a_queued_run_is_streamed_by_a_worker_and_its_files_reach_object_storage(team: Team) -> None:
    store, settings = team.store(), team.settings()
    sample = team.upload(SAMPLE)
    run = jobs.new_run(store, settings, "Show the revenue trend over time", [sample])
    assert store.turn_state(run.id).status in ("queued", "running")  # this process only enqueued it
    assert jobs.wait(run.id, 60, store=store)
    assert store.run(run.id).status == "done"
    assert _worker_of(store, run.id).split(":")[1] in {str(w.proc.pid) for w in team.workers}
    items = [s.item for s in store.items(run.id)]
    assert any(isinstance(i, Text) and i.text for i in items)
    made = [i for i in items if isinstance(i, GeneratedFile) and i.path]
    assert made, "the analysis saved files"
    # the worker's own data directory is not ours: the file came through the object store
    import fsspec

    fs = fsspec.filesystem("s3", client_kwargs={"endpoint_url": team.s3.url})
    assert fs.exists(f"{team.blob_url}/{made[0].path}")


def test_stop_recorded_by_any_replica_stops_the_worker_within_a_second(team: Team) -> None:
    store, settings = team.store(), team.settings()
    question = "Profile this and take your time"
    with team.emulator.held_analysis(question, []):
        run = jobs.new_run(store, settings, question, [])
        _wait(lambda: store.turn_state(run.id).status == "running" and store.items(run.id), 30, "the first item")
        asked = time.monotonic()
        assert jobs.stop(run.id, store)  # what the Stop button of any replica does: record it
        _wait(lambda: store.turn_state(run.id).status == "stopped", 5, "the stop")
        took = time.monotonic() - asked
    assert took < 1.5, f"the worker took {took:.2f} s to stop"
    assert store.run(run.id).status == "stopped" and store.items(run.id)


def test_a_worker_killed_mid_run_leaves_it_interrupted_and_a_follow_up_completes_on_the_other(team: Team) -> None:
    store, settings = team.store(), team.settings()
    question = "A long look at everything"
    with team.emulator.held_analysis(question, []):
        run = jobs.new_run(store, settings, question, [])
        _wait(lambda: store.turn_state(run.id).status == "running" and store.items(run.id), 30, "the first item")
        received = len(store.items(run.id))
        pid = _worker_of(store, run.id).split(":")[1]
        victim = next(w for w in team.workers if str(w.proc.pid) == pid)
        victim.kill()
        killed = time.monotonic()
        _wait(lambda: store.run(run.id).status == "interrupted", 30, "the run to show as interrupted")
    assert time.monotonic() - killed < 30
    assert "worker" in store.run(run.id).error
    assert len(store.items(run.id)) >= received  # everything received is kept
    assert store.turn_state(run.id).status == "interrupted"
    jobs.start_turn(store, settings, run.id, "Go on, please")
    assert jobs.wait(run.id, 60, store=store)
    assert store.run(run.id).status == "done"
    assert _worker_of(store, run.id).split(":")[1] != pid
    team.workers.remove(victim)
    team.add_worker()  # the session goes on with two


def test_restarting_a_replica_mid_run_does_not_interrupt_the_run(team: Team) -> None:
    store, settings = team.store(), team.settings()
    question = "Something that runs while we redeploy"
    with team.emulator.held_analysis(question, []) as gate:
        run = jobs.new_run(store, settings, question, [])
        _wait(lambda: store.turn_state(run.id).status == "running", 30, "a worker to take it")
        old = team.replicas.pop(0)
        old.proc.terminate()
        old.proc.wait(15)
        team.add_replica()  # the new replica starts (and recovers) while the run is still going
        assert store.run(run.id).status == "running"
        gate.set()
        assert jobs.wait(run.id, 60, store=store)
    assert store.run(run.id).status == "done" and store.run(run.id).error == ""


def test_a_replay_is_asked_question_after_question_by_the_workers(team: Team, tmp_path) -> None:
    store, settings = team.store(), team.settings()
    sample = team.upload(SAMPLE)
    run = jobs.new_run(store, settings, "Give me a first look at monthly_sales.csv", [sample])
    assert jobs.wait(run.id, 60, store=store)
    jobs.start_turn(store, settings, run.id, "What drives revenue?")
    assert jobs.wait(run.id, 60, store=store)
    changed = tmp_path / "monthly_sales_v2.csv"
    changed.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:101]))

    replay = jobs.start_replay(store, settings, run.id, {sample: team.upload(changed)})
    # the next question is queued before the last one is settled: at no moment does the replay look idle early
    deadline = time.monotonic() + 120
    while jobs.is_active(replay.id, store):
        assert time.monotonic() < deadline, "the replay did not finish"
        time.sleep(0.005)

    turns = store.turns(replay.id)  # as they were the first time the run looked idle
    assert [t.question for t in turns] == ["Give me a first look at monthly_sales_v2.csv", "What drives revenue?"]
    assert [t.status for t in turns] == ["done", "done"] and store.run(replay.id).status == "done"
    with store.engine.connect() as conn:
        workers = conn.exec_driver_sql(f"SELECT worker FROM turns WHERE run_id = '{replay.id}'").scalars().all()
    assert all(w.split(":")[1] in {str(p.proc.pid) for p in team.workers} for w in workers)
    found = load_comparison(store, run.id, replay.id, settings.prices)
    rows = [n for n in found.diff.turns[0].changed_numbers if n.new.after.startswith("rows")]
    assert [(n.old.value, n.new.value) for n in rows] == [(576, 100)]


def test_queued_turns_keep_no_copy_of_the_conversation(team: Team) -> None:
    store, settings = team.store(), team.settings()
    run = jobs.new_run(store, settings, "A first look", [])
    assert jobs.wait(run.id, 60, store=store)
    jobs.start_turn(store, settings, run.id, "And a second one")
    assert jobs.wait(run.id, 60, store=store)
    assert store.run(run.id).status == "done"
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql(f"SELECT request FROM turns WHERE run_id = '{run.id}' ORDER BY idx").scalars()
        requests = [json.loads(r) for r in stored]
    assert len(requests) == 2 and all(r and "history" not in r for r in requests)
    second = [r.json for r in team.emulator.requests if r.method == "POST" and r.path == "/v1/messages"][-1]
    assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"], "the worker sent the history"


def _held_on_a_worker(team: Team, store: Store, question: str):
    """A run whose first turn a worker is streaming, and that worker."""
    run = jobs.new_run(store, team.settings(), question, [])
    _wait(lambda: store.turn_state(run.id).status == "running" and store.items(run.id), 30, "the first item")
    pid = _worker_of(store, run.id).split(":")[1]
    return run, next(w for w in team.workers if str(w.proc.pid) == pid)


def test_a_terminated_worker_lets_its_running_turn_finish_before_it_exits(team: Team) -> None:
    store = team.store()
    question = "A turn that a deploy should not cut"
    with team.emulator.held_analysis(question, []) as gate:
        run, draining = _held_on_a_worker(team, store, question)
        draining.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert draining.proc.poll() is None, "the worker left before its turn finished"
        assert store.run(run.id).status == "running"
        gate.set()
        draining.proc.wait(30)
    assert store.run(run.id).status == "done" and store.run(run.id).error == ""
    assert not any(isinstance(i, Notice) and "Stopped" in i.text for i in (s.item for s in store.items(run.id)))
    team.workers.remove(draining)
    team.add_worker()


def test_a_worker_that_cannot_drain_leaves_its_turn_interrupted_not_stopped(team: Team) -> None:
    store = team.store()
    question = "A turn still going when the worker must leave"
    with team.emulator.held_analysis(question, []):
        run, leaving = _held_on_a_worker(team, store, question)
        received = len(store.items(run.id))
        leaving.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        leaving.proc.send_signal(signal.SIGTERM)  # a second signal ends the drain at once
        leaving.proc.wait(10)
        _wait(lambda: store.run(run.id).status == "interrupted", 30, "the run to show as interrupted")
    assert store.run(run.id).error == INTERRUPTED_BY_WORKER
    items = [s.item for s in store.items(run.id)]
    assert len(items) >= received, "everything received is kept"
    assert not any(isinstance(i, Notice) and "Stopped" in i.text for i in items), "not the user's Stop"
    assert "still running at exit" in leaving.log()
    team.workers.remove(leaving)
    team.add_worker()
