"""Runs nobody works on any more become 'interrupted', keeping everything they received.

Embedded: active runs that neither a thread of this process nor another live process on this machine holds
(after a restart, or a CLI that was killed). Shared database: runs whose worker's lease ran out.
"""

from __future__ import annotations

import threading

from lib.runs.threads import active_ids, held_elsewhere
from lib.storage.store import Store

_recovered: set[str] = set()
_recovered_lock = threading.Lock()


def recover(store: Store) -> list[str]:
    """Once per process and database: settle every run nobody works on any more; returns their ids."""
    key = store.location
    with _recovered_lock:
        if key in _recovered:
            return []
        _recovered.add(key)
    return settle(store)


def settle(store: Store, only: set[str] | None = None) -> list[str]:
    """Active runs (or `only` these) that nobody works on become 'interrupted'; returns their ids. Embedded, those
    of the store's owner (of every owner for an admin's store, as at start-up); with a shared database, any run
    whose worker's lease ran out, which any worker would settle too."""
    if store.embedded:
        elsewhere = {run_id for run_id, worker in store.active_turn_workers().items() if held_elsewhere(worker)}
        return store.mark_interrupted(keep=active_ids() | elsewhere, only=only)
    return store.reap_expired(only)
