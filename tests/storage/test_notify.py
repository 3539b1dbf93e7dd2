"""Change signals on the embedded database: each write tells what its watchers wait for, once committed, and a
watcher can wait for them instead of polling."""

from __future__ import annotations

import threading
import time

from lib.storage import notify
from lib.storage.notify import Signals
from lib.transcript import Text, Usage


def test_a_waiter_wakes_when_its_signal_moves_and_not_for_others():
    signals = Signals(pushed=True)
    mine, other = notify.items("run-a"), notify.items("run-b")
    seen = signals.snapshot(mine)
    assert not signals.wait((mine,), seen, 0.05), "nothing moved: the wait times out"
    signals.raise_([other])
    assert signals.snapshot(mine) == seen
    threading.Timer(0.05, signals.raise_, ([mine],)).start()
    started = time.monotonic()
    assert signals.wait((mine,), seen, 5.0)
    assert time.monotonic() - started < 2.0


def test_getting_signals_back_after_losing_them_moves_everything_once():
    signals = Signals(pushed=False)
    seen = signals.snapshot(notify.state("run-a"))
    signals.set_pushed(True)
    assert signals.pushed and signals.snapshot(notify.state("run-a")) != seen, "what was sent meanwhile is lost"
    again = signals.snapshot(notify.state("run-a"))
    signals.set_pushed(True)
    assert signals.snapshot(notify.state("run-a")) == again


def test_writes_tell_their_watchers_once_committed(store):
    signals = store.signals
    run = store.create_run("q", "m", "t", [])
    watched = (notify.items(run.id), notify.state(run.id), notify.QUEUE_CHANGED, notify.stop(run.id))

    def after(write) -> list[str]:
        before = signals.snapshot(*watched)
        write()
        now = signals.snapshot(*watched)
        return [s[0] for s, a, b in zip(watched, before[1:], now[1:], strict=True) if a != b]

    idx = None

    def queue() -> None:
        nonlocal idx
        idx = store.add_turn(run.id, "q", [], request={})

    assert after(queue) == ["state", "queue"]
    assert after(lambda: store.claim_turn("w", 60)) == ["state", "queue"]
    assert after(lambda: store.put_items(run.id, idx, {0: Text(text="a"), 1: Text(text="b")})) == ["items"]
    assert after(lambda: store.update_turn(run.id, idx, usage=Usage(output_tokens=3))) == ["state"]
    assert after(lambda: store.request_stop(run.id)) == ["stop"]
    assert after(lambda: store.update_turn(run.id, idx, status="stopped")) == ["state", "queue"], "a place freed"
    assert after(lambda: store.as_owner("mallory").put_items(run.id, idx, {2: Text(text="x")})) == [], "refused"
    assert [s.item.text for s in store.items(run.id)] == ["a", "b"]
