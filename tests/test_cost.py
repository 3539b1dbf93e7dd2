"""Tests of lib.cost: the estimate a user sees for a conversation."""

from __future__ import annotations

import pytest

from lib.cost import (
    DEFAULT_PRICES,
    Cost,
    ModelPrice,
    PriceTable,
    budget_reached,
    container_minutes_for,
    estimate,
    format_usd,
)
from lib.transcript import Usage

USAGE = Usage(
    input_tokens=100_000,
    output_tokens=20_000,
    cache_creation_input_tokens=40_000,
    cache_read_input_tokens=200_000,
    code_execution_requests=3,
)


def test_price_for_matches_family_prefix():
    assert DEFAULT_PRICES.price_for("claude-sonnet-4-6") == ModelPrice(3.0, 15.0, 3.75, 0.30)
    assert DEFAULT_PRICES.price_for("claude-opus-4-6") == ModelPrice(5.0, 25.0, 6.25, 0.50)
    assert DEFAULT_PRICES.price_for("claude-haiku-4-5-20251001") == ModelPrice(1.0, 5.0, 1.25, 0.10)
    assert DEFAULT_PRICES.price_for("gpt-4o") is None


def test_price_for_prefers_the_longest_prefix():
    assert DEFAULT_PRICES.price_for("claude-opus-4-1-20250805").input_per_mtok == 15.0
    table = PriceTable({"claude": ModelPrice(1, 1, 1, 1), "claude-x": ModelPrice(2, 2, 2, 2)})
    assert table.price_for("claude-x-1").input_per_mtok == 2


def test_estimate_sonnet_with_container_time():
    cost = estimate(USAGE, "claude-sonnet-4-6", DEFAULT_PRICES, container_minutes=12)
    # 0.1 M × $3 + 0.02 M × $15 + 0.04 M × $3.75 + 0.2 M × $0.30 = 0.30 + 0.30 + 0.15 + 0.06
    assert cost.tokens_usd == pytest.approx(0.81)
    assert cost.container_usd == pytest.approx(12 / 60 * 0.05)
    assert cost.total_usd == pytest.approx(0.82)
    assert cost.known


def test_short_container_use_is_billed_at_five_minutes():
    cost = estimate(Usage(code_execution_requests=1), "claude-opus-4-6", DEFAULT_PRICES, container_minutes=0.5)
    assert cost.container_usd == pytest.approx(5 / 60 * 0.05)


def test_no_container_no_container_cost():
    cost = estimate(Usage(input_tokens=1_000_000), "claude-haiku-4-5", DEFAULT_PRICES, container_minutes=0)
    assert cost == Cost(tokens_usd=1.0, container_usd=0.0, total_usd=1.0, known=True)


def test_unknown_model_is_priced_at_the_highest_known_price_so_budgets_still_trip():
    cost = estimate(USAGE, "mystery-model", DEFAULT_PRICES, container_minutes=60)
    dearest = estimate(USAGE, "claude-opus-4-1", DEFAULT_PRICES, container_minutes=60)
    assert not cost.known and dearest.known
    assert cost.tokens_usd == pytest.approx(dearest.tokens_usd) and cost.tokens_usd > 0
    # a budget that any known model's use would reach is reached by the unknown model's
    for model in DEFAULT_PRICES.models:
        known = estimate(USAGE, model, DEFAULT_PRICES, container_minutes=60)
        assert budget_reached(known.total_usd, cost.total_usd), (model, known.total_usd, cost.total_usd)


def test_container_minutes_for_turns():
    assert container_minutes_for(3) == 15
    assert container_minutes_for(0) == 0


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "$0.00"), (0.00004, "<$0.0001"), (0.0123, "$0.0123"), (0.81, "$0.8100"), (1234.5, "$1,234.50")],
)
def test_format_usd(value, text):
    assert format_usd(value) == text
