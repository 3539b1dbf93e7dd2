"""What a page or the CLI shows of one run: read from the store in one call, or followed as it is written."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lib.cost import Cost, PriceTable, run_cost, run_usage, turn_cost
from lib.runs.diff import RunDiff, compare_runs
from lib.runs.replay import TITLE_PREFIX
from lib.runs.threads import held_elsewhere, job_of
from lib.runs.waiting import QueuePlace, place_in_queue
from lib.storage import notify
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import ACTIVE, RunRecord, StoredItem, TurnRecord, TurnState
from lib.storage.store import Store
from lib.tracing.records import RunTrace, Source, TurnTrace, turn_trace_from_dict
from lib.transcript import CodeCell, Item, Query, Usage, duration


@dataclass(frozen=True)
class QueryTotals:
    """The SQL queries of a run: how many, the rows they returned, the seconds they took, how many failed."""

    count: int = 0
    rows: int = 0
    seconds: float = 0.0
    errors: int = 0

    @property
    def text(self) -> str:
        """In words, for a summary line ("" without queries)."""
        if not self.count:
            return ""
        failed = f" ({self.errors} failed)" if self.errors else ""
        return (
            f"{self.count} SQL quer{'y' if self.count == 1 else 'ies'}{failed} · {self.rows:,} "
            f"row{'s' * (self.rows != 1)} · {duration(self.seconds)}"
        )


def query_totals(items: list[Item]) -> QueryTotals:
    """What a run's (or a turn's) finished queries add up to."""
    done = [i for i in items if isinstance(i, Query) and not i.running]
    return QueryTotals(
        len(done),
        sum(q.row_count for q in done),
        sum(q.seconds for q in done),
        sum(1 for q in done if q.error_kind),
    )


@dataclass(frozen=True)
class TurnView:
    """One turn with its items, cost, and its answer's numbers traced (None until the turn has ended)."""

    turn: TurnRecord
    items: list[Item]
    cost: Cost
    trace: TurnTrace | None = None

    @property
    def cells(self) -> dict[int, str]:
        """The name of each code cell ("2.3": question 2, third cell), by its position in the turn."""
        seqs = [seq for seq, item in enumerate(self.items) if isinstance(item, CodeCell)]
        return {seq: cell_name(self.turn.idx, n) for n, seq in enumerate(seqs, start=1)}


def cell_name(turn_idx: int, number: int) -> str:
    """What a code cell is called: "2.3" is the third code cell of question 2 (turn index 1)."""
    return f"{turn_idx + 1}.{number}"


def cell_anchor(name: str) -> str:
    """The in-page anchor of a code cell named "2.3": cell-2-3 (what Streamlit makes of a heading "Cell 2.3")."""
    return "cell-" + name.replace(".", "-")


def shown_where(source: Source, cell: Callable[[str], str] = "cell {}".format) -> str:
    """Where an output showed a number, in markdown: "cell 1.2, output line 4" or "`s.csv` saved by cell 1.2,
    line 5, under `mean`"; `cell` writes a cell's name (as a link, on the page)."""
    by = cell(cell_name(source.turn, source.cell_number)) if source.cell_number else "an output"
    if source.file:
        label = f", under {code_span(source.label)}" if source.label else ""
        return f"{code_span(source.file)} saved by {by}, line {source.line}{label}"
    return f"{by}, output line {source.line}"


_TICKS = re.compile(r"`+")


def code_span(text: str) -> str:
    """Text as a markdown code span, however many backticks it holds."""
    ticks = "`" * (max(map(len, _TICKS.findall(text)), default=0) + 1)
    pad = " " if not text or text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


@dataclass(frozen=True)
class RunView:
    """A run, its turns and totals."""

    run: RunRecord
    turns: list[TurnView]
    usage: Usage
    cost: Cost
    container_idle_since: float | None  # when the container was last used; None while a turn runs or if unknown
    queries: QueryTotals = QueryTotals()

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
    traces = store.traces(run_id)
    views = []
    for turn in turns:
        trace = _trace(traces.get(turn.idx))
        views.append(TurnView(turn, _items_of(items, turn.idx), turn_cost(turn, run.model, prices), trace))
    return RunView(
        run,
        views,
        run_usage(turns),
        run_cost(turns, run.model, prices),
        idle_since(run.active, turns),
        query_totals([s.item for s in items]),
    )


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
EAGER_SECONDS = 10.0  # for this long after a page starts watching a turn, it waits for its first words between looks


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
    watched_at: float | None = None  # monotonic time of the first look

    def __post_init__(self) -> None:
        self.follower = Follower(self.run_id, self.idx)

    def await_first_words(self, store: Store, timeout: float) -> bool:
        """Until the turn's first words are read, block up to `timeout` seconds for a change to it (signalled
        changes only, in the first EAGER_SECONDS of watching); returns whether one came, so a look finds it at
        once instead of on the next tick."""
        eager = (
            self.seen is not None
            and self.watched_at is not None
            and self.item_reads < FIRST_READS
            and self.turn is not None
            and self.turn.status in ACTIVE
            and time.monotonic() - self.watched_at < EAGER_SECONDS
            and pushed(store, self.run_id)
        )
        return eager and store.signals.wait(self._wanted(), self.seen or (), timeout)

    def _wanted(self) -> tuple[notify.Signal, ...]:
        return (notify.items(self.run_id), notify.state(self.run_id), notify.QUEUE_CHANGED)

    def look(self, store: Store, now: float | None = None) -> bool:
        """Bring the turn up to date with what changed since the last look; returns whether the store was read."""
        now = time.monotonic() if now is None else now
        snap = store.signals.snapshot(*self._wanted())
        first = self.seen is None
        if first:
            self.watched_at = time.monotonic()  # real time, whatever `now` says: the wait for first words is real
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


def kept_trace(store: Store, run_id: str) -> RunTrace | None:
    """The numbers of every turn of a readable run, as kept when each turn ended; None when a turn has none
    (it is still running, was cut off, or is from before numbers were traced)."""
    kept = store.traces(run_id)
    turns = [_trace(kept.get(turn.idx)) for turn in store.turns(run_id)]
    if not turns or any(t is None for t in turns):
        return None
    found = [t for t in turns if t is not None]
    return RunTrace(found, all(t.complete for t in found))


def _trace(data: dict[str, Any] | None) -> TurnTrace | None:
    """A kept trace; None when there is none or it cannot be read (the answer is then shown unmarked)."""
    if data is None:
        return None
    try:
        return turn_trace_from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


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
    def names(self) -> tuple[str, str]:
        """The two runs' names, the replay's without its mark (its label says it)."""
        new = self.new.run.name.removeprefix(TITLE_PREFIX) if self.is_replay else self.new.run.name
        return self.old.run.name, new


def load_comparison(store: Store, old_id: str, new_id: str, prices: PriceTable) -> Comparison | None:
    """Two runs side by side (None when either is not readable)."""
    old, new = load_run_view(store, old_id, prices), load_run_view(store, new_id, prices)
    if old is None or new is None:
        return None
    diff = compare_runs(
        [(t.turn.question, t.items) for t in old.turns], [(t.turn.question, t.items) for t in new.turns]
    )
    return Comparison(old, new, diff)
