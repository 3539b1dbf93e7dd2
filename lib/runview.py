"""Everything a page shows about one run, gathered from the store in one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lib.cost import Cost, PriceTable, container_minutes_for, estimate
from lib.store import Run, Store, StoredItem, Turn
from lib.transcript import Item, Usage


@dataclass(frozen=True)
class TurnView:
    """One turn with its items and cost."""

    turn: Turn
    items: list[Item]
    cost: Cost


@dataclass(frozen=True)
class RunView:
    """A run, its turns and totals."""

    run: Run
    turns: list[TurnView]
    usage: Usage
    cost: Cost
    container_expires: datetime | None

    @property
    def container_expired(self) -> bool:
        """Whether the container's advertised expiry has passed."""
        return bool(self.container_expires and self.container_expires <= datetime.now(UTC))


def parse_time(value: str) -> datetime | None:
    """An RFC 3339 timestamp, or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def turn_uses_container(turn: Turn) -> bool:
    """Whether a turn was billed container time (it ran code or had files attached)."""
    return bool(
        turn.usage.code_execution_requests
        or turn.container_id
        or any(b.get("type") == "container_upload" for b in turn.user_content)
    )


def load_run_view(store: Store, run_id: str, prices: PriceTable) -> RunView | None:
    """Read a run and everything needed to show it."""
    run = store.run(run_id)
    if run is None:
        return None
    turns = store.turns(run_id)
    items = store.items(run_id)
    views = []
    for turn in turns:
        minutes = container_minutes_for(1) if turn_uses_container(turn) else 0.0
        views.append(TurnView(turn, _items_of(items, turn.idx), estimate(turn.usage, run.model, prices, minutes)))
    return RunView(
        run, views, run_usage(turns), run_cost(turns, run.model, prices), parse_time(run.container_expires_at)
    )


def run_usage(turns: list[Turn]) -> Usage:
    """Usage of a run's turns added up."""
    return sum((t.usage for t in turns), Usage())


def run_cost(turns: list[Turn], model: str, prices: PriceTable) -> Cost:
    """Estimated cost of a run's turns so far."""
    minutes = container_minutes_for(sum(1 for t in turns if turn_uses_container(t)))
    return estimate(run_usage(turns), model, prices, minutes)


def _items_of(items: list[StoredItem], turn_idx: int) -> list[Item]:
    return [s.item for s in items if s.turn_idx == turn_idx]
