"""How a page follows a live turn (lib/runs/view.py: LiveTurn) and how a worker writes one (ItemWriter): a look
that finds no signal reads nothing, a signal reads only what it names, a growing answer is read at a bounded
rate, until its first words the page waits for them between looks, and where changes are not signalled the page
polls."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from lib.runs import view
from lib.runs.execute import WRITE_INTERVAL, ItemWriter
from lib.runs.threads import Job, register
from lib.runs.view import MIN_READ_SECONDS, SAME_MACHINE_POLL_SECONDS, LiveTurn
from lib.transcript import Text, Usage


@contextmanager
def counted(store) -> Iterator[list[str]]:
    """The statements this thread sends to the store's database meanwhile (not transaction control)."""
    me, sent = threading.get_ident(), []

    def note(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == me and not statement.startswith("BEGIN"):
            sent.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", note)


def _running(store) -> tuple[str, int, Job]:
    """A run whose turn a (pretend) thread of this process streams: its changes are signalled."""
    run = store.create_run("q", "m", "t", [])
    idx = store.add_turn(run.id, "q", [])
    job = Job(run_id=run.id, thread=threading.Thread(target=threading.Event().wait, args=(30,), daemon=True))
    job.thread.start()
    register(job)
    return run.id, idx, job


def test_a_look_reads_only_what_a_signal_names_and_nothing_without_one(store):
    run_id, idx, job = _running(store)
    live = LiveTurn(run_id, idx)
    assert view.pushed(store, run_id)
    t = 1000.0
    with counted(store) as sent:
        assert live.look(store, now=t)
    assert len(sent) == 3, "the first look reads the turn, its lease and its items"
    with counted(store) as sent:
        for step in range(20):
            assert not live.look(store, now=t + step)
    assert sent == [], "nothing changed: twenty looks, no statement"

    store.put_items(run_id, idx, {0: Text(text="First words")})
    with counted(store) as sent:
        assert live.look(store, now=t + 30)
    assert len(sent) == 1 and "items" in sent[0]
    assert [i.text for i in live.follower.items] == ["First words"]

    store.update_turn(run_id, idx, usage=Usage(output_tokens=5))
    with counted(store) as sent:
        assert live.look(store, now=t + 31)
    assert len(sent) == 2 and all("turns" in s for s in sent), "a state change reads the turn and its lease"
    assert live.turn.usage.output_tokens == 5 and live.active


def test_a_growing_answer_is_read_at_a_bounded_rate_its_start_and_first_words_at_once(store):
    run_id, idx, _ = _running(store)
    live = LiveTurn(run_id, idx)
    t = 1000.0
    live.look(store, now=t)
    store.put_items(run_id, idx, {0: Text(text="")})  # a text block starts empty...
    assert live.look(store, now=t + 0.01)
    store.put_items(run_id, idx, {0: Text(text="First")})  # ...and its first words come right after
    assert live.look(store, now=t + 0.02), "the first words are read at once"
    store.put_items(run_id, idx, {0: Text(text="First words")})
    assert not live.look(store, now=t + 0.02 + MIN_READ_SECONDS / 2), "then at most every MIN_READ_SECONDS"
    assert live.look(store, now=t + 0.03 + MIN_READ_SECONDS)
    assert [i.text for i in live.follower.items] == ["First words"]


def test_until_its_first_words_a_watcher_waits_for_them_between_looks_and_is_woken_by_their_write(store):
    run_id, idx, _ = _running(store)
    live = LiveTurn(run_id, idx)
    assert not live.await_first_words(store, timeout=0.01), "nothing looked at yet: nothing to wait for"
    live.look(store)

    def later(text: str) -> None:
        threading.Timer(0.1, store.put_items, args=(run_id, idx, {0: Text(text=text)})).start()

    later("")
    assert live.await_first_words(store, timeout=30), "woken by the write, not by the timeout"
    assert live.look(store)
    later("First words")
    assert live.await_first_words(store, timeout=30), "an empty start is not yet words: it waits on"
    assert live.look(store)
    assert [i.text for i in live.follower.items] == ["First words"]

    later("First words and more")
    assert not live.await_first_words(store, timeout=1), "with the first words read, it waits no more"


def test_a_watcher_does_not_wait_for_first_words_that_are_not_signalled(store):
    run = store.create_run("q", "m", "t", [])
    idx = store.add_turn(run.id, "q", [])
    live = LiveTurn(run.id, idx)
    live.look(store)
    assert not view.pushed(store, run.id), "no thread of this process streams it: no signal would come"
    threading.Timer(0.1, store.put_items, args=(run.id, idx, {0: Text(text="Words")})).start()
    assert not live.await_first_words(store, timeout=1), "it left the polling to the next look"


def test_a_run_streamed_by_another_process_is_polled_and_its_end_noticed(store):
    run = store.create_run("q", "m", "t", [])
    idx = store.add_turn(run.id, "q", [])
    live = LiveTurn(run.id, idx)
    t = 1000.0
    live.look(store, now=t)
    assert not view.pushed(store, run.id), "no thread of this process streams it"
    assert not live.active, "nobody holds it: the page settles it"
    with counted(store) as sent:
        assert not live.look(store, now=t + SAME_MACHINE_POLL_SECONDS / 2)
        assert live.look(store, now=t + SAME_MACHINE_POLL_SECONDS)
    assert len(sent) == 3


def test_the_writer_sends_a_new_item_at_once_with_every_update_held_back(store):
    run_id, idx, _ = _running(store)
    calls: list[dict[int, str]] = []

    class Recording:
        def put_items(self, run_id: str, turn_idx: int, batch: dict) -> None:
            calls.append({seq: item.text for seq, item in batch.items()})

    writer = ItemWriter(Recording(), run_id, idx)
    writer.put(0, Text(text=""), final=False)
    writer.put(0, Text(text="A"), final=False)
    writer.put(0, Text(text="A b"), final=False)
    writer.put(0, Text(text="A b c"), final=False)
    assert calls == [{0: ""}, {0: "A"}], "its empty start and first words at once, then held for WRITE_INTERVAL"
    writer.put(1, Text(text="Next"), final=False)
    assert calls[-1] == {0: "A b c", 1: "Next"}, "a new item takes what was held along, in one batch"
    writer.put(1, Text(text="Next one"), final=True)
    assert calls[-1] == {1: "Next one"}
    assert WRITE_INTERVAL > 0
