"""Per-user monthly usage and budgets: what each user's runs cost this month, and the check before a request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from lib.cost import PriceTable, format_usd, turn_cost
from lib.errors import AppError, NotAllowedError
from lib.identity import LOCAL_OWNER
from lib.storage.records import TurnUsage
from lib.storage.store import Store


@dataclass(frozen=True)
class UserUsage:
    """One user's month so far."""

    owner: str
    email: str
    name: str
    runs: int
    turns: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    budget_usd: float  # 0: no limit

    @property
    def label(self) -> str:
        """How to name the user on a page."""
        if self.owner == LOCAL_OWNER:
            return "Before sign-in (local)"
        return self.email or self.name or self.owner

    @property
    def budget_reached(self) -> bool:
        """Whether the monthly budget (if any) is used up."""
        return self.budget_usd > 0 and self.cost_usd >= self.budget_usd


class MonthlyBudgetReachedError(AppError):
    """The user has used their monthly budget."""

    def __init__(self, spent_usd: float, budget_usd: float, month: str) -> None:
        super().__init__(
            "Monthly budget reached",
            f"You have used an estimated {format_usd(spent_usd)} of your {format_usd(budget_usd)} budget for "
            f"{month}, so the request was not sent. Everything so far is kept.",
            "Ask an admin of this app to raise your monthly budget, or wait for the new month.",
            code="user_budget",
        )


def month_start(now: datetime | None = None) -> datetime:
    """Midnight UTC on the first of the current month."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def summarise(
    owner: str, turns: list[TurnUsage], prices: PriceTable, email: str = "", name: str = "", budget: float = 0.0
) -> UserUsage:
    """One user's figures from their turns."""
    return UserUsage(
        owner=owner,
        email=email,
        name=name,
        runs=len({t.run_id for t in turns}),
        turns=len(turns),
        input_tokens=sum(
            t.turn.usage.input_tokens + t.turn.usage.cache_creation_input_tokens + t.turn.usage.cache_read_input_tokens
            for t in turns
        ),
        output_tokens=sum(t.turn.usage.output_tokens for t in turns),
        cost_usd=sum(turn_cost(t.turn, t.model, prices).total_usd for t in turns),
        budget_usd=budget,
    )


def my_month(store: Store, prices: PriceTable, now: datetime | None = None) -> UserUsage:
    """The store owner's usage this month."""
    user = store.user()
    turns = store.turn_usage_since(month_start(now).timestamp())
    return summarise(
        store.owner,
        turns,
        prices,
        user.email if user else "",
        user.name if user else "",
        user.monthly_budget_usd if user else 0.0,
    )


def everyone_month(store: Store, prices: PriceTable, now: datetime | None = None) -> list[UserUsage]:
    """Every user's usage this month, users without runs included (admins only); costliest first."""
    by_owner: dict[str, list[TurnUsage]] = defaultdict(list)
    for t in store.turn_usage_since(month_start(now).timestamp(), every_owner=True):
        by_owner[t.owner].append(t)
    users = {u.owner: u for u in store.users()}
    rows = [
        summarise(
            owner,
            by_owner.get(owner, []),
            prices,
            users[owner].email if owner in users else "",
            users[owner].name if owner in users else "",
            users[owner].monthly_budget_usd if owner in users else 0.0,
        )
        for owner in sorted(set(by_owner) | set(users))
    ]
    return sorted(rows, key=lambda r: (-r.cost_usd, r.label.lower()))


def check_user_budget(store: Store, owner: str, prices: PriceTable, now: datetime | None = None) -> AppError | None:
    """Before every request: an error to show when `owner`'s monthly budget is used up, else None (another
    owner's only for an admin)."""
    if owner != store.owner and not store.admin:
        raise NotAllowedError("Only an admin of this app can look at another user's budget.")
    mine = store if store.owner == owner else store.as_owner(owner)
    user = mine.user()
    if user is None or not user.monthly_budget_usd:  # no budget: nothing to add up (the usual case)
        return None
    usage = my_month(mine, prices, now)
    if not usage.budget_reached:
        return None
    return MonthlyBudgetReachedError(usage.cost_usd, usage.budget_usd, month_start(now).strftime("%B %Y"))


def set_monthly_budget(store: Store, owner: str, usd: float) -> float:
    """Set an owner's monthly budget in USD (admins only); returns the amount kept, 0 for no limit."""
    amount = max(float(usd), 0.0)
    store.set_monthly_budget(owner, amount)
    return amount
