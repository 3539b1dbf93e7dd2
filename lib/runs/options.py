"""What a run's owner may change after starting it: its budget and whether it is shared."""

from __future__ import annotations

from lib.storage.store import Store


def set_shared(store: Store, run_id: str, on: bool) -> None:
    """Share one of this owner's runs read-only with everyone signed in, or stop sharing it."""
    store.own_run(run_id)
    store.update_run(run_id, shared=bool(on))


def set_budget(store: Store, run_id: str, usd: float) -> None:
    """One of this owner's runs' budget in USD; 0 (or less) for no limit."""
    store.own_run(run_id)
    store.update_run(run_id, budget_usd=max(float(usd), 0.0))
