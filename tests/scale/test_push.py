"""Push, not poll, on PostgreSQL: a worker's writes reach a watcher as NOTIFY on its one LISTEN connection, a
quiet watcher reads nothing, and when that connection is cut the watcher polls slowly until it is back."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from lib.runs import jobs, view
from lib.runs.view import FALLBACK_SECONDS, MIN_READ_SECONDS, LiveTurn
from lib.storage import db, notify
from lib.storage.notify import Signals
from tests.support.browser import free_port
from tests.support.runs import wait_for
from tests.support.team import Team

pytestmark = pytest.mark.postgres


def _listening(team: Team) -> tuple[Signals, notify.Listener]:
    store = team.store()
    signals = store.signals
    listener = notify.listener_for(store.engine)
    assert listener is not None
    wait_for(lambda: signals.pushed, 30, "the LISTEN connection")
    return signals, listener


def test_a_worker_s_writes_wake_a_watcher_which_reads_only_then(team: Team) -> None:
    store, settings = team.store(), team.settings()
    signals, _ = _listening(team)
    question = "Watch this one arrive"
    with team.emulator.held_analysis(question, []) as gate:
        run = jobs.new_run(store, settings, question, [])
        live = LiveTurn(run.id, 0)
        live.look(store)
        seen = signals.snapshot(notify.items(run.id))
        assert signals.wait((notify.items(run.id),), seen, 30), "a worker's first items were signalled"
        seen = signals.snapshot(notify.items(run.id), notify.state(run.id))
        reads = live.reads
        assert live.look(store) and live.reads == reads + 1 and live.follower.items, "the signal made it read"
        while signals.wait((notify.items(run.id), notify.state(run.id)), seen, 1.5):  # until the held turn is quiet
            seen = signals.snapshot(notify.items(run.id), notify.state(run.id))
        time.sleep(MIN_READ_SECONDS)
        live.look(store)
        before = live.reads
        for _ in range(5):  # the turn is held: nothing is written, so nothing is read
            time.sleep(0.3)
            live.look(store)
        assert live.reads == before, "quiet looks read nothing"
        gate.set()
        assert jobs.wait(run.id, 60, store=store)
    wait_for(lambda: (live.look(store), not live.active)[1], 10, "the watcher to see the run end")
    assert live.turn.status == "done"


def test_a_lost_listen_connection_falls_back_to_the_poll_and_comes_back(team: Team) -> None:
    store, settings = team.store(), team.settings()
    signals, listener = _listening(team)
    connects, reachable = listener.connects, dict(listener.connect_args)
    question = "Keep going while the connection is cut"
    with team.emulator.held_analysis(question, []) as gate:
        run = jobs.new_run(store, settings, question, [])
        wait_for(lambda: store.items(run.id), 30, "the first item")
        seen = signals.snapshot(notify.items(run.id), notify.state(run.id))
        while signals.wait((notify.items(run.id), notify.state(run.id)), seen, 1.5):  # until the held turn is quiet
            seen = signals.snapshot(notify.items(run.id), notify.state(run.id))
        live = LiveTurn(run.id, 0)
        live.look(store)
        # the server drops the listener's backend, and for a while the listener cannot get back in
        listener.connect_args = {**reachable, "port": free_port()}
        with store.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
        wait_for(lambda: not signals.pushed, 10, "the loss to be noticed")
        assert not view.pushed(store, run.id)
        # (the read on the slow poll first: it also renews what the look knows of the turn's lease)
        assert live.look(store, now=live.read_at + FALLBACK_SECONDS), "reads on the slow poll without being told"
        assert not live.look(store, now=live.read_at + FALLBACK_SECONDS / 2), "the slow poll, not every tick"
        listener.connect_args = reachable
        wait_for(lambda: signals.pushed and listener.connects > connects, 30, "the LISTEN connection to come back")
        seen = signals.snapshot(notify.items(run.id))
        gate.set()
        assert signals.wait((notify.items(run.id),), seen, 30), "signals arrive again after the reconnect"
        assert jobs.wait(run.id, 60, store=store)
    assert store.run(run.id).status == "done"


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced_before_use(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = team.store()
    store.runs()
    with store.engine.begin() as conn:  # everything of this process but the connection asking, as a restart would
        mine = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = '' AND pid <> %(mine)s",
            {"mine": mine},
        )
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    for _ in range(8):  # more than the pool holds: each dropped one is pinged, found dead and replaced
        assert store.runs() is not None
