"""Cost estimate of a conversation: tokens by model price plus code-execution container time.

This is an upper-bound estimate: the free code-execution allowance (1,550 container-hours per
organisation per month) is not subtracted, because it is shared across the organisation and
the app cannot know how much of it is left. Cache writes are priced at the 5-minute rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from lib.transcript import Usage

MTOK = 1_000_000


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens for one model family."""

    input_per_mtok: float
    output_per_mtok: float
    cache_write_per_mtok: float
    cache_read_per_mtok: float


@dataclass(frozen=True)
class PriceTable:
    """Token prices keyed by model-name prefix, plus code-execution container pricing."""

    models: dict[str, ModelPrice] = field(default_factory=dict)
    container_hour_usd: float = 0.05
    container_min_minutes: float = 5.0

    def highest(self) -> ModelPrice:
        """The dearest price in the table, for models it does not know (so budgets still trip)."""
        return max(self.models.values(), key=lambda p: (p.output_per_mtok, p.input_per_mtok))

    def price_for(self, model: str) -> ModelPrice | None:
        """Price of the longest prefix in the table that `model` starts with, or None."""
        matches = [prefix for prefix in self.models if model.startswith(prefix)]
        return self.models[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class Cost:
    """Estimated USD; `known` is False when the model's token price is unknown (tokens then at the highest price)."""

    tokens_usd: float
    container_usd: float
    total_usd: float
    known: bool


OPUS_4_5 = ModelPrice(5.0, 25.0, 6.25, 0.50)
OPUS_4_0 = ModelPrice(15.0, 75.0, 18.75, 1.50)
SONNET = ModelPrice(3.0, 15.0, 3.75, 0.30)
HAIKU_4_5 = ModelPrice(1.0, 5.0, 1.25, 0.10)
HAIKU_3_5 = ModelPrice(0.80, 4.0, 1.0, 0.08)

DEFAULT_PRICES = PriceTable(
    models={
        "claude-opus": OPUS_4_5,
        # Opus 4 and 4.1 kept the old, higher price; longer prefixes win over the family.
        "claude-opus-4-0": OPUS_4_0,
        "claude-opus-4-1": OPUS_4_0,
        "claude-opus-4-2025": OPUS_4_0,
        "claude-sonnet": SONNET,
        "claude-haiku": HAIKU_4_5,
        "claude-3-7-sonnet": SONNET,
        "claude-3-5-haiku": HAIKU_3_5,
    }
)


def token_cost(usage: Usage, price: ModelPrice) -> float:
    """USD for the tokens in `usage` at `price`."""
    return (
        usage.input_tokens * price.input_per_mtok
        + usage.output_tokens * price.output_per_mtok
        + usage.cache_creation_input_tokens * price.cache_write_per_mtok
        + usage.cache_read_input_tokens * price.cache_read_per_mtok
    ) / MTOK


def container_cost(container_minutes: float, prices: PriceTable, used: bool = True) -> float:
    """USD for container time, never less than the minimum billed minutes when a container was used."""
    if not used and container_minutes <= 0:
        return 0.0
    billed = max(container_minutes, prices.container_min_minutes)
    return billed / 60 * prices.container_hour_usd


def estimate(usage: Usage, model: str, prices: PriceTable, container_minutes: float) -> Cost:
    """Upper-bound cost of `usage` on `model` plus `container_minutes` of code execution."""
    price = prices.price_for(model)
    tokens = token_cost(usage, price or prices.highest())
    used = container_minutes > 0 or usage.code_execution_requests > 0
    container = container_cost(container_minutes, prices, used)
    return Cost(tokens_usd=tokens, container_usd=container, total_usd=tokens + container, known=price is not None)


def container_minutes_for(turns: int, min_minutes: float = DEFAULT_PRICES.container_min_minutes) -> float:
    """Billed container minutes for `turns` turns that used a container, each counting the minimum."""
    return max(turns, 0) * min_minutes


class Billed(Protocol):
    """What pricing needs of one turn: what it used, and whether it was billed container time."""

    @property
    def usage(self) -> Usage: ...

    @property
    def uses_container(self) -> bool: ...


def turn_cost(turn: Billed, model: str, prices: PriceTable) -> Cost:
    """Estimated cost of one turn, with the billed container minimum when it used a container."""
    minutes = container_minutes_for(1) if turn.uses_container else 0.0
    return estimate(turn.usage, model, prices, minutes)


def run_usage(turns: Iterable[Billed]) -> Usage:
    """Usage of a run's turns added up."""
    return sum((t.usage for t in turns), Usage())


def run_cost(turns: Sequence[Billed], model: str, prices: PriceTable) -> Cost:
    """Estimated cost of a run's turns so far."""
    minutes = container_minutes_for(sum(1 for t in turns if t.uses_container))
    return estimate(run_usage(turns), model, prices, minutes)


def format_usd(x: float) -> str:
    """'$0.00' for zero, '<$0.0001' for crumbs, 4 decimals under a dollar, else '$1,234.56'."""
    if x < 0:
        return "-" + format_usd(-x)
    if x == 0:
        return "$0.00"
    if x < 0.0001:
        return "<$0.0001"
    if x < 1:
        return f"${x:.4f}"
    return f"${x:,.2f}"


DEMO_LABEL = "demo"  # what a run of the offline demo shows in place of a model and a cost


def model_label(model: str, demo: bool) -> str:
    """The model a run shows: 'demo' for the offline demo, whose scripted analyst is no model."""
    return DEMO_LABEL if demo else model


def usage_text(usage: Usage, cost: Cost, demo: bool = False, model: str = "") -> str:
    """Tokens, code executions and estimated cost as one line (after the model, when given); the offline demo
    calls no API, so it shows 'demo' and neither tokens nor a cost."""
    executions = f"{usage.code_execution_requests} code execution{'s' * (usage.code_execution_requests != 1)}"
    if demo:
        return f"{DEMO_LABEL} · {executions} · no cost"
    total = format_usd(cost.total_usd)
    est = total if cost.known else f"price unknown (counted as {total} for budgets)"
    line = f"{usage.input_tokens:,} input · {usage.output_tokens:,} output tokens · {executions} · est. {est}"
    return f"{model} · {line}" if model else line


def budget_reached(budget_usd: float, spent_usd: float) -> bool:
    """Whether a budget (0: none) has been used up."""
    return budget_usd > 0 and spent_usd >= budget_usd


def budget_used_sentence(spent_usd: float, budget_usd: float) -> str:
    """'This run has used an estimated $X of its $Y budget' (no full stop, for the caller to go on)."""
    return f"This run has used an estimated {format_usd(spent_usd)} of its {format_usd(budget_usd)} budget"
