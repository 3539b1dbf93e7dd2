"""The queue of turns: claiming, leases and their renewal, stop requests, and settling runs nobody works on.

Workers (and, with the embedded database, the app's own threads) claim queued turns and renew a lease while
they stream; a turn whose lease ran out, or an active run no thread holds after a restart, becomes
'interrupted' with every item already received. Claiming and renewing look across owners and need an admin.
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib.storage.db import runs, turns
from lib.storage.records import ACTIVE, Claim, TurnState
from lib.storage.scope import Scope

LEASE_SECONDS = 10.0  # a worker that has not renewed its lease for this long is taken for dead
INTERRUPTED_BY_RESTART = "The app stopped while this run was in progress; what arrived before that is kept."
INTERRUPTED_BY_WORKER = (
    "The worker running this analysis stopped answering, so it was cut off; what arrived before that is kept. "
    "Ask a follow-up to go on."
)


class TurnQueue(Scope):
    """Who runs which turn, until when, and whether they were asked to stop."""

    def claim_turn(self, worker: str, lease_seconds: float, only: tuple[str, int] | None = None) -> Claim | None:
        """Take the oldest queued turn (or `only` that one) for `worker`, leased for `lease_seconds`; None if
        there is none. Concurrent workers never take the same turn (FOR UPDATE SKIP LOCKED)."""
        self._require_admin()
        query = (
            sa.select(turns.c.run_id, turns.c.idx, turns.c.request, runs.c.owner, runs.c.demo)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.status == "queued")
            .order_by(turns.c.started_at)
            .limit(1)
            .with_for_update(of=turns, skip_locked=True)
        )
        if only is not None:
            query = query.where(turns.c.run_id == only[0], turns.c.idx == only[1])
        now = time.time()
        with self._begin() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            conn.execute(
                turns.update()
                .where(turns.c.run_id == row.run_id, turns.c.idx == row.idx)
                .values(status="running", worker=worker, lease_until=now + lease_seconds)
            )
            conn.execute(runs.update().where(runs.c.id == row.run_id).values(status="running", updated_at=now))
        return Claim(row.owner, row.run_id, row.idx, json.loads(row.request or "{}"), bool(row.demo))

    def heartbeat(self, worker: str, lease_seconds: float) -> set[tuple[str, int]]:
        """Extend the lease of every turn `worker` is running; returns those some replica asked to stop."""
        self._require_admin()
        mine = sa.and_(turns.c.worker == worker, turns.c.status == "running")
        with self._begin() as conn:
            conn.execute(turns.update().where(mine).values(lease_until=time.time() + lease_seconds))
            rows = conn.execute(sa.select(turns.c.run_id, turns.c.idx).where(mine, turns.c.stop_requested == 1))
            return {(r.run_id, r.idx) for r in rows}

    def reap_expired(self, only: set[str] | None = None) -> list[str]:
        """Runs (or `only` these) whose turn's worker stopped renewing its lease become 'interrupted', keeping
        every item already received; returns their ids. A lease that ran out is a fact about the queue, not
        about anyone's data, so any owner's page may have it settled."""
        expired = sa.select(turns.c.run_id).where(turns.c.status == "running", turns.c.lease_until < time.time())
        if only is not None:
            expired = expired.where(turns.c.run_id.in_(list(only)))
        with self._begin() as conn:
            ids = list(dict.fromkeys(conn.execute(expired.with_for_update(skip_locked=True)).scalars()))
            _interrupt(conn, ids, INTERRUPTED_BY_WORKER)
        return ids

    def request_stop(self, run_id: str) -> bool:
        """Ask whoever runs this owner's run to stop it (a turn still queued stops here); returns whether a turn
        was active."""
        with self._begin() as conn:
            if not self._owned(conn, run_id):
                return False
            active = sa.and_(turns.c.run_id == run_id, turns.c.status.in_(ACTIVE))
            found = conn.execute(turns.update().where(active).values(stop_requested=1)).rowcount
            queued = sa.and_(turns.c.run_id == run_id, turns.c.status == "queued")
            if conn.execute(turns.update().where(queued).values(status="stopped", finished_at=time.time())).rowcount:
                conn.execute(runs.update().where(runs.c.id == run_id).values(status="stopped"))
        return bool(found)

    def turn_state(self, run_id: str) -> TurnState | None:
        """Where a readable run's newest turn is in the queue, or None without turns."""
        query = (
            sa.select(turns.c.idx, turns.c.status, turns.c.worker, turns.c.lease_until, turns.c.stop_requested)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.run_id == run_id, self._readable())
            .order_by(turns.c.idx.desc())
            .limit(1)
        )
        with self._begin() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return TurnState(row.idx, row.status, row.worker, row.lease_until, bool(row.stop_requested))

    def active_turn_workers(self) -> dict[str, str]:
        """Run id → the worker holding its active turn, for every owner's runs (admin) or this owner's."""
        query = sa.select(turns.c.run_id, turns.c.worker).where(turns.c.status.in_(ACTIVE))
        if not self.admin:
            query = query.join(runs, runs.c.id == turns.c.run_id).where(runs.c.owner == self.owner)
        with self._begin() as conn:
            return {r.run_id: r.worker for r in conn.execute(query)}

    def mark_interrupted(self, keep: set[str] = frozenset(), only: set[str] | None = None) -> list[str]:
        """Active runs (of every owner for an admin, else this owner's; or `only` these) that no thread works on
        become 'interrupted'; returns their ids."""
        query = sa.select(runs.c.id).where(runs.c.status.in_(ACTIVE))
        if not (self.admin and only is None):
            query = query.where(runs.c.owner == self.owner)
        with self._begin() as conn:
            found = conn.execute(query).scalars().all()
            ids = [r for r in found if r not in keep and (only is None or r in only)]
            _interrupt(conn, ids, INTERRUPTED_BY_RESTART)
        return ids


def _interrupt(conn: Connection, run_ids: list[str], why: str) -> None:
    if not run_ids:
        return
    conn.execute(runs.update().where(runs.c.id.in_(run_ids)).values(status="interrupted", error=why))
    conn.execute(
        turns.update()
        .where(turns.c.run_id.in_(run_ids), turns.c.status.in_(ACTIVE))
        .values(status="interrupted", finished_at=time.time())
    )
