"""A turn put on the queue: its request built from the run and checked against the budgets, kept in the
store without what the run's earlier turns already hold, and read back by whoever runs it."""

from __future__ import annotations

import dataclasses
from typing import Any

from lib.cost import budget_reached, budget_used_sentence, run_cost
from lib.errors import AppError
from lib.identity import User
from lib.runs import data_sources
from lib.runs.budget import check_user_budget
from lib.settings import Settings
from lib.storage.store import Store
from lib.turn.request import (
    SYSTEM_PROMPT,
    TurnRequest,
    attached_ids,
    files_note,
    history_messages,
    sources_system,
    user_content,
)


class BudgetReachedError(AppError):
    """The run has used its budget."""

    def __init__(self, spent_usd: float, budget_usd: float) -> None:
        super().__init__(
            "Budget reached",
            budget_used_sentence(spent_usd, budget_usd) + ", so the question was not sent.",
            "Raise the run's budget (the Budget button below the answer) and ask again.",
            code="budget",
        )


def queue_turn(store: Store, settings: Settings, run_id: str, question: str, user: User | None = None) -> int:
    """Add a turn to one of the store owner's runs, queued with everything a worker needs; returns its index.

    A run with SQL sources is checked for `user` (who asks; the single-user app's one user when None), and
    its turn keeps the sources' names, their schemas and who asks, never a URL."""
    run = store.own_run(run_id)
    asker = data_sources.asker_of(store, user) if run.sources else None
    picked = data_sources.check(asker, settings, run.sources) if asker is not None else []
    user_budget = check_user_budget(store, store.owner, settings.prices)
    if user_budget is not None:
        raise user_budget
    turns = store.turns(run_id)
    spent = run_cost(turns, run.model, settings.prices).total_usd
    if budget_reached(run.budget_usd, spent):
        raise BudgetReachedError(spent, run.budget_usd)
    history = history_messages([(t.user_content, t.assistant_content) for t in turns])
    # without a known container the next request starts a new one, so every file of the run goes along again
    already = attached_ids(history) if run.container_id else set()
    pending = [f for f in run.file_ids if f not in already]
    note = files_note([r for r in (store.file(f) for f in pending) if r is not None])
    content = user_content(question, pending, note)
    req = TurnRequest(
        model=run.model,
        tool_version=run.tool_version,
        max_tokens=settings.max_tokens,
        history=history,
        user_content=content,
        container_id=run.container_id,
        run_file_ids=run.file_ids,
        max_continuations=settings.max_continuations,
        budget_usd=run.budget_usd,
        spent_usd=spent,
        prices=settings.prices,
        sources=list(run.sources),
        system=sources_system(data_sources.schemas(picked)) if picked else SYSTEM_PROMPT,
    )
    request = request_dict(req)
    if asker is not None:
        request["asker"] = data_sources.asker_dict(asker)
    return store.add_turn(run_id, question, content, request=request)


def request_dict(req: TurnRequest) -> dict[str, Any]:
    """A turn's request as JSON-ready values, for the queue: without its history, which the run's earlier turns
    already hold (kept in every turn, a run's requests would grow with the square of its length), nor its
    prices (the worker's own)."""
    values = dataclasses.asdict(req)
    values.pop("history")
    values.pop("prices")
    return values


def request_from(values: dict[str, Any], settings: Settings, history: list[dict[str, Any]]) -> TurnRequest:
    """The request a queued turn was saved with, after `history`, priced with `settings`."""
    known = {f.name for f in dataclasses.fields(TurnRequest)} - {"history", "prices"}
    values = {k: v for k, v in values.items() if k in known}
    return TurnRequest(**values, history=history, prices=settings.prices)


def history_before(store: Store, run_id: str, idx: int) -> list[dict[str, Any]]:
    """The conversation of a run's turns before turn `idx`, as messages."""
    turns = [t for t in store.turns(run_id) if t.idx < idx]
    return history_messages([(t.user_content, t.assistant_content) for t in turns])
