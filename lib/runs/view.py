"""What a page or the CLI shows of one run: read from the store in one call, or followed as it is written."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lib.cost import Cost, PriceTable, run_cost, run_usage, turn_cost
from lib.runs.diff import RunDiff, compare_runs
from lib.runs.replay import TITLE_PREFIX
from lib.runs.threads import held_elsewhere, job_of
from lib.runs.waiting import QueuePlace, place_in_queue
from lib.storage import notify
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import ACTIVE, RunRecord, StoredItem, TurnRecord, TurnState
from lib.storage.store import Store
from lib.transcript import Item, Usage


@dataclass(frozen=True)
class TurnView:
    """One turn with its items and cost."""

    turn: TurnRecord
    items: list[Item]
    cost: Cost


@dataclass(frozen=True)
class RunView:
    """A run, its turns and totals."""

    run: RunRecord
    turns: list[TurnView]
    usage: Usage
    cost: Cost
    container_idle_since: float | None  # when the container was last used; None while a turn runs or if unknown

    def container_idle_minutes(self, now: float | None = None) -> int | None:
        """Whole minutes the run's container has been idle, or None."""
        if self.container_idle_since is None or not self.run.container_id:
            return None
        return max(0, int(((now or time.time()) - self.container_idle_since) // 60))


def idle_since(run_active: bool, turns: list[TurnRecord]) -> float | None:
    """When a run's container was last used: the end of its last turn (the API's rolling expiry says nothing
    about whether the container is gone: an idle one is checkpointed and restored on the next request)."""
    if run_active or not turns:
        return None
    return turns[-1].finished_at or turns[-1].started_at


def load_run_view(store: Store, run_id: str, prices: PriceTable) -> RunView | None:
    """Read a run and everything needed to show it."""
    run = store.run(run_id)
    if run is None:
        return None
    turns = store.turns(run_id)
    items = store.items(run_id)
    views = []
    for turn in turns:
        views.append(TurnView(turn, _items_of(items, turn.idx), turn_cost(turn, run.model, prices)))
    return RunView(run, views, run_usage(turns), run_cost(turns, run.model, prices), idle_since(run.active, turns))


WATERMARK_SLACK = 0.2  # seconds re-read below the newest write seen, for writes committed out of order


@dataclass
class Follower:
    """What a watcher (a page, the CLI) already has of a run, or of one of its turns: the items by place and the
    newest write seen, so each look at the store reads only what was written since the last."""

    run_id: str
    turn_idx: int | None = None  # None: every turn of the run
    seen: dict[tuple[int, int], Item] = field(default_factory=dict)  # by (turn, position)
    watermark: float | None = None
    marked: tuple[int, ...] = ()  # the run's signal versions when `mark` was last called

    def mark(self, store: Store) -> None:
        """Note the run's signal versions before a look, so `wait` knows what is news after it."""
        self.marked = store.signals.snapshot(*self._signals())

    def wait(self, store: Store, poll: float) -> None:
        """Block until the run changed since `mark` (where changes are signalled), or for `poll` seconds (where
        they are not); never longer than FALLBACK_SECONDS."""
        timeout = FALLBACK_SECONDS if pushed(store, self.run_id) else min(poll, FALLBACK_SECONDS)
        store.signals.wait(self._signals(), self.marked, timeout)

    def _signals(self) -> tuple[notify.Signal, ...]:
        return (notify.items(self.run_id), notify.state(self.run_id))

    def poll(self, store: Store) -> list[StoredItem]:
        """The items written or rewritten since the last look (and a little before it), now also in `seen`."""
        since = None if self.watermark is None else self.watermark - WATERMARK_SLACK
        fresh = store.items(self.run_id, turn_idx=self.turn_idx, since=since)
        for stored in fresh:
            self.seen[(stored.turn_idx, stored.seq)] = stored.item
            self.watermark = max(self.watermark or 0.0, stored.updated_at)
        if self.watermark is None:
            self.watermark = 0.0
        return fresh

    @property
    def items(self) -> list[Item]:
        """Every item seen so far, in order."""
        return [self.seen[key] for key in sorted(self.seen)]


FALLBACK_SECONDS = 2.0  # how often a watcher reads when changes are not signalled (a lost LISTEN connection)
SAME_MACHINE_POLL_SECONDS = 0.1  # embedded: a run another process on this machine streams (the CLI beside the app)
MIN_READ_SECONDS = 0.25  # a watcher reads at most this often, however fast a turn is written...
FIRST_READS = 2  # ...once it has read that many batches: an answer's empty start, then its first words
QUEUE_RECHECK_SECONDS = LEASE_SECONDS  # a queued turn's place is read again this often even without a signal


def pushed(store: Store, run_id: str) -> bool:
    """Whether changes to a run are signalled as they are written: with PostgreSQL while this process's LISTEN
    connection is up; with the embedded database while a thread of this process streams the run."""
    if store.embedded:
        job = job_of(run_id)
        return bool(job and job.alive)
    return store.signals.pushed


@dataclass
class LiveTurn:
    """A run's live turn as a page follows it. The store is read only when a signal says the run or the queue
    changed (or, where changes are not signalled, on a slow poll), at most every MIN_READ_SECONDS; a look that
    finds nothing new costs no statement, and the page draws what was read last."""

    run_id: str
    idx: int
    max_per_owner: int = 0
    follower: Follower = field(init=False)
    turn: TurnRecord | None = None
    state: TurnState | None = None  # the run's newest turn: its lease, and whether a replay went on
    place: QueuePlace | None = None  # while queued with a shared database
    seen: tuple[int, ...] | None = None  # the signal versions as of the last read
    read_at: float = 0.0  # monotonic time of the last read
    place_at: float = 0.0
    reads: int = 0  # how many looks read the store (what a bench counts)
    item_reads: int = 0  # how many of them found items

    def __post_init__(self) -> None:
        self.follower = Follower(self.run_id, self.idx)

    def look(self, store: Store, now: float | None = None) -> bool:
        """Bring the turn up to date with what changed since the last look; returns whether the store was read."""
        now = time.monotonic() if now is None else now
        wanted = (notify.items(self.run_id), notify.state(self.run_id), notify.QUEUE_CHANGED)
        snap = store.signals.snapshot(*wanted)
        first = self.seen is None
        if not first and self.item_reads >= FIRST_READS and now - self.read_at < MIN_READ_SECONDS:
            return False  # a growing answer is read at most this often; its first words at once
        epoch, items_moved, state_moved, queue_moved = (
            first or a != b for a, b in zip(snap, self.seen or snap, strict=True)
        )
        poll = 0.0 if first else (SAME_MACHINE_POLL_SECONDS if store.embedded else FALLBACK_SECONDS)
        due = first or epoch or (not pushed(store, self.run_id) and now - self.read_at >= poll)
        lease_out = self._lease_passed(store)
        read_items = due or items_moved
        read_turn = due or state_moved or lease_out
        read_place = self._queued(store) and (read_turn or queue_moved or now - self.place_at >= QUEUE_RECHECK_SECONDS)
        if not (read_items or read_turn or read_place):
            self.seen = snap  # what moved (the queue, while the turn runs) is nothing this turn shows
            return False
        self.seen, self.read_at = snap, now
        if read_turn:
            self.turn = store.turn(self.run_id, self.idx)
            self.state = store.turn_state(self.run_id)
        if read_items and self.follower.poll(store):
            self.item_reads += 1
        if self._queued(store) and (read_place or read_turn):
            self.place, self.place_at = place_in_queue(store, self.run_id, self.idx, self.max_per_owner), now
        elif not self._queued(store):
            self.place = None
        self.reads += 1
        return True

    def view(self, run: RunRecord, prices: PriceTable) -> TurnView | None:
        """The turn as last read, with its items and cost (None if it is gone)."""
        if self.turn is None:
            return None
        return TurnView(self.turn, self.follower.items, turn_cost(self.turn, run.model, prices))

    @property
    def active(self) -> bool:
        """Whether someone works (or will work) on the turn, as of the last look: queued, or held by a thread of
        this process, by another live process on this machine (embedded), or under a live lease."""
        job = job_of(self.run_id)
        if job and job.alive:
            return True
        state = self.state
        if state is None or state.status not in ACTIVE:
            return False
        if state.worker.startswith("local:"):
            return held_elsewhere(state.worker)
        return state.status == "queued" or state.lease_until >= time.time()

    @property
    def moved_on(self) -> bool:
        """Whether the run's newest turn is no longer this one (a replay asked its next question)."""
        return self.state is not None and self.state.idx != self.idx

    def _queued(self, store: Store) -> bool:
        return not store.embedded and self.turn is not None and self.turn.status == "queued"

    def _lease_passed(self, store: Store) -> bool:
        """With a shared database, the running turn's lease as last read has passed: read it again (renewals are
        not signalled, so this is the one read a quiet turn costs, about once a lease)."""
        state = self.state
        return (
            not store.embedded and state is not None and state.status == "running" and state.lease_until < time.time()
        )


@dataclass(frozen=True)
class RunWatch:
    """Whether a run drawn at rest changed since (a turn was asked from another tab or replica, it was stopped,
    its settings changed): told by signals, so asking costs no statement."""

    run_id: str
    seen: tuple[int, ...]

    @classmethod
    def start(cls, store: Store, run_id: str) -> RunWatch:
        """Note the run's state before it is read (a change after this is news)."""
        return cls(run_id, store.signals.snapshot(notify.state(run_id)))

    def changed(self, store: Store) -> bool:
        """Whether the run's state changed since `start`."""
        return store.signals.snapshot(notify.state(self.run_id)) != self.seen


def refresh_turn(store: Store, run: RunRecord, live: Follower, prices: PriceTable) -> TurnView | None:
    """The turn `live` follows, reading only the items written since it last looked (None without that turn)."""
    turn = store.turn(run.id, live.turn_idx) if live.turn_idx is not None else None
    if turn is None:
        return None
    live.poll(store)
    return TurnView(turn, live.items, turn_cost(turn, run.model, prices))


def _items_of(items: list[StoredItem], turn_idx: int) -> list[Item]:
    return [s.item for s in items if s.turn_idx == turn_idx]


@dataclass(frozen=True)
class Comparison:
    """Two readable runs and what changed from the first to the second, question by question."""

    old: RunView
    new: RunView
    diff: RunDiff

    @property
    def is_replay(self) -> bool:
        """Whether the second run replays the first."""
        return self.new.run.replay_of == self.old.run.id

    @property
    def labels(self) -> tuple[str, str]:
        """What to call the two runs."""
        return ("Original", "Replay") if self.is_replay else ("Before", "After")

    @property
    def titles(self) -> tuple[str, str]:
        """The two runs' titles, the replay's without its mark (its label says it)."""
        new = self.new.run.title.removeprefix(TITLE_PREFIX) if self.is_replay else self.new.run.title
        return self.old.run.title, new


def load_comparison(store: Store, old_id: str, new_id: str, prices: PriceTable) -> Comparison | None:
    """Two runs side by side (None when either is not readable)."""
    old, new = load_run_view(store, old_id, prices), load_run_view(store, new_id, prices)
    if old is None or new is None:
        return None
    diff = compare_runs(
        [(t.turn.question, t.items) for t in old.turns], [(t.turn.question, t.items) for t in new.turns]
    )
    return Comparison(old, new, diff)
