"""What a page or the CLI shows of one run: read from the store in one call, or followed as it is written."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from lib.cost import Cost, PriceTable, run_cost, run_usage, turn_cost
from lib.runs.diff import RunDiff, compare_runs
from lib.runs.replay import TITLE_PREFIX
from lib.storage.records import RunRecord, StoredItem, TurnRecord
from lib.storage.store import Store
from lib.transcript import Item, Query, Usage, duration


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
    views = []
    for turn in turns:
        views.append(TurnView(turn, _items_of(items, turn.idx), turn_cost(turn, run.model, prices)))
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
