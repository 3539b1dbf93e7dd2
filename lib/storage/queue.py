"""The queue of turns: claiming in a fair order, leases and their renewal, stop requests, the workers' own
heartbeats, and settling runs nobody works on.

Workers (and, with the embedded database, the app's own threads) claim queued turns and renew a lease while
they stream; a turn whose lease ran out, or an active run no thread holds after a restart, becomes
'interrupted' with every item already received. Claiming is fair across owners: the oldest queued turn of the
owner who has waited longest since their last claim, and none of an owner who already runs `max_per_owner`.
Claiming, renewing and listing workers look across owners and need an admin. Every change a page or a worker
may wait for is announced (lib/storage/notify.py).
"""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lib.storage import notify
from lib.storage.db import queue_owners, runs, turns, workers
from lib.storage.records import ACTIVE, Claim, QueuedTurn, QueueSnapshot, TurnState, WorkerRecord
from lib.storage.scope import Scope

LEASE_SECONDS = 10.0  # a worker that has not renewed its lease for this long is taken for dead
WORKER_GONE_LEASES = 3  # a worker that has not beaten for this many leases is taken for gone
FORGET_WORKERS_AFTER = 86400.0  # rows of workers gone this long are removed
CLAIM_TRIES = 3  # a claim that lost a race for an owner's last free place tries again at once
INTERRUPTED_BY_RESTART = "The app stopped while this run was in progress; what arrived before that is kept."
INTERRUPTED_BY_WORKER = (
    "The worker running this analysis stopped answering, so it was cut off; what arrived before that is kept. "
    "Ask a follow-up to go on."
)


def _running_of(owner: sa.ColumnElement) -> sa.ScalarSelect:
    """How many turns of `owner` are running now."""
    t, r = turns.alias("t_running"), runs.alias("r_running")
    return (
        sa.select(sa.func.count())
        .select_from(t.join(r, r.c.id == t.c.run_id))
        .where(r.c.owner == owner, t.c.status == "running")
        .scalar_subquery()
    )


class TurnQueue(Scope):
    """Who runs which turn, until when, whether they were asked to stop, and which workers are alive."""

    def claim_turn(
        self, worker: str, lease_seconds: float, only: tuple[str, int] | None = None, max_per_owner: int = 0
    ) -> Claim | None:
        """Take the next queued turn in the fair order (or `only` that one) for `worker`, leased for
        `lease_seconds`; None if there is none. With `max_per_owner`, an owner already running that many turns is
        passed over. Concurrent workers never take the same turn, nor more than an owner's share (the turn's row
        and its owner's row are taken FOR UPDATE SKIP LOCKED in one statement)."""
        self._require_admin()
        for _ in range(CLAIM_TRIES):
            try:
                return self._claim_once(worker, lease_seconds, only, max_per_owner)
            except _LostRace:
                continue
        return None

    def _claim_once(
        self, worker: str, lease_seconds: float, only: tuple[str, int] | None, max_per_owner: int
    ) -> Claim | None:
        query = (
            sa.select(turns.c.run_id, turns.c.idx, turns.c.request, runs.c.owner, runs.c.demo)
            .join(runs, runs.c.id == turns.c.run_id)
            .join(queue_owners, queue_owners.c.owner == runs.c.owner)
            .where(turns.c.status == "queued")
            .order_by(queue_owners.c.last_claim_at, turns.c.started_at)
            .limit(1)
            .with_for_update(of=[turns, queue_owners], skip_locked=True)
        )
        if only is not None:
            query = query.where(turns.c.run_id == only[0], turns.c.idx == only[1])
        elif max_per_owner:
            query = query.where(_running_of(runs.c.owner) < max_per_owner)
        now = time.time()
        with self._changing(notify.QUEUE_CHANGED) as (conn, said):
            row = conn.execute(query).first()
            if row is None:
                said.clear()
                return None
            mark = queue_owners.update().where(queue_owners.c.owner == row.owner).values(last_claim_at=now)
            if only is None and max_per_owner:
                # The row lock serialises claims for this owner; this statement, unlike the first, sees every claim
                # committed before the lock was granted, so the share is exact.
                mark = mark.where(_running_of(queue_owners.c.owner) < max_per_owner)
            if conn.execute(mark).rowcount == 0:
                raise _LostRace()
            conn.execute(
                turns.update()
                .where(turns.c.run_id == row.run_id, turns.c.idx == row.idx)
                .values(status="running", worker=worker, lease_until=now + lease_seconds)
            )
            conn.execute(runs.update().where(runs.c.id == row.run_id).values(status="running", updated_at=now))
            said.append(notify.state(row.run_id))
        return Claim(row.owner, row.run_id, row.idx, json.loads(row.request or "{}"), bool(row.demo))

    def heartbeat(self, worker: str, lease_seconds: float, draining: bool = False) -> set[tuple[str, int]]:
        """Extend the lease of every turn `worker` is running, and its own beat (and whether it still claims);
        returns the turns some replica asked to stop."""
        self._require_admin()
        mine = sa.and_(turns.c.worker == worker, turns.c.status == "running")
        now = time.time()
        with self._changing(*([notify.QUEUE_CHANGED] if draining else [])) as (conn, _):
            conn.execute(turns.update().where(mine).values(lease_until=now + lease_seconds))
            conn.execute(workers.update().where(workers.c.name == worker).values(last_beat=now, draining=int(draining)))
            rows = conn.execute(sa.select(turns.c.run_id, turns.c.idx).where(mine, turns.c.stop_requested == 1))
            return {(r.run_id, r.idx) for r in rows}

    def register_worker(self, worker: str, host: str, pid: int, capacity: int) -> None:
        """Announce a worker that starts serving (and forget workers gone for long)."""
        self._require_admin()
        now = time.time()
        with self._changing(notify.QUEUE_CHANGED) as (conn, _):
            conn.execute(workers.delete().where(workers.c.last_beat < now - FORGET_WORKERS_AFTER))
            conn.execute(
                self._insert(workers)
                .values(name=worker, host=host, pid=pid, capacity=capacity, started_at=now, last_beat=now)
                .on_conflict_do_nothing(index_elements=["name"])
            )

    def beat_worker(self, worker: str, draining: bool = False) -> None:
        """A worker's own beat while it holds no lease: it is alive, and whether it still claims (a draining
        worker is announced, so pages waiting for one learn whether any other is left)."""
        self._require_admin()
        with self._changing(*([notify.QUEUE_CHANGED] if draining else [])) as (conn, _):
            conn.execute(
                workers.update().where(workers.c.name == worker).values(last_beat=time.time(), draining=int(draining))
            )

    def remove_worker(self, worker: str) -> None:
        """A worker that exits says so: pages waiting for one learn at once that it is gone."""
        self._require_admin()
        with self._changing(notify.QUEUE_CHANGED) as (conn, _):
            conn.execute(workers.delete().where(workers.c.name == worker))

    def workers(self) -> list[WorkerRecord]:
        """Every worker that announced itself, newest beat first, with how many turns each runs now (admins)."""
        self._require_admin()
        running = (
            sa.select(sa.func.count())
            .where(turns.c.worker == workers.c.name, turns.c.status == "running")
            .scalar_subquery()
        )
        query = sa.select(workers, running.label("running")).order_by(workers.c.last_beat.desc())
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [WorkerRecord(**{**r, "draining": bool(r["draining"])}) for r in rows]

    def queue_depth(self) -> int:
        """How many turns wait for a worker (admins)."""
        self._require_admin()
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(turns.c.status == "queued")).scalar_one())

    def queue_snapshot(self) -> QueueSnapshot:
        """The queue in one statement: what a queued run's page needs to say where it stands. It tells no one
        anything of other owners' turns but that they exist."""
        live = (
            sa.select(sa.func.count())
            .where(
                workers.c.last_beat >= time.time() - WORKER_GONE_LEASES * LEASE_SECONDS,
                workers.c.draining == 0,
            )
            .scalar_subquery()
        )
        query = (
            sa.select(
                runs.c.owner,
                turns.c.run_id,
                turns.c.idx,
                turns.c.started_at,
                sa.func.coalesce(queue_owners.c.last_claim_at, 0.0).label("last_claim"),
                _running_of(runs.c.owner).label("running"),
                live.label("live"),
            )
            .join(runs, runs.c.id == turns.c.run_id)
            .outerjoin(queue_owners, queue_owners.c.owner == runs.c.owner)
            .where(turns.c.status == "queued")
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return QueueSnapshot(
            [QueuedTurn(r.owner, r.run_id, r.idx, r.started_at) for r in rows],
            {r.owner: float(r.last_claim) for r in rows},
            {r.owner: int(r.running) for r in rows},
            int(rows[0].live) if rows else self.live_workers(),
        )

    def live_workers(self) -> int:
        """How many workers beat within the last few leases and still claim turns."""
        cutoff = time.time() - WORKER_GONE_LEASES * LEASE_SECONDS
        query = sa.select(sa.func.count()).where(workers.c.last_beat >= cutoff, workers.c.draining == 0)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def reap_expired(self, only: set[str] | None = None) -> list[str]:
        """Runs (or `only` these) whose turn's worker stopped renewing its lease become 'interrupted', keeping
        every item already received; returns their ids. A lease that ran out is a fact about the queue, not
        about anyone's data, so any owner's page may have it settled."""
        expired = sa.select(turns.c.run_id).where(turns.c.status == "running", turns.c.lease_until < time.time())
        if only is not None:
            expired = expired.where(turns.c.run_id.in_(list(only)))
        with self._changing() as (conn, said):
            ids = list(dict.fromkeys(conn.execute(expired.with_for_update(skip_locked=True)).scalars()))
            _interrupt(conn, ids, INTERRUPTED_BY_WORKER, said)
        return ids

    def request_stop(self, run_id: str) -> bool:
        """Ask whoever runs this owner's run to stop it (a turn still queued stops here); returns whether a turn
        was active."""
        with self._changing() as (conn, said):
            if not self._owned(conn, run_id):
                return False
            active = sa.and_(turns.c.run_id == run_id, turns.c.status.in_(ACTIVE))
            found = conn.execute(turns.update().where(active).values(stop_requested=1)).rowcount
            if found:
                said.append(notify.stop(run_id))
            queued = sa.and_(turns.c.run_id == run_id, turns.c.status == "queued")
            if conn.execute(turns.update().where(queued).values(status="stopped", finished_at=time.time())).rowcount:
                conn.execute(runs.update().where(runs.c.id == run_id).values(status="stopped"))
                said.extend([notify.state(run_id), notify.QUEUE_CHANGED])
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
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return TurnState(row.idx, row.status, row.worker, row.lease_until, bool(row.stop_requested))

    def active_turn_workers(self) -> dict[str, str]:
        """Run id → the worker holding its active turn, for every owner's runs (admin) or this owner's."""
        query = sa.select(turns.c.run_id, turns.c.worker).where(turns.c.status.in_(ACTIVE))
        if not self.admin:
            query = query.join(runs, runs.c.id == turns.c.run_id).where(runs.c.owner == self.owner)
        with self._read() as conn:
            return {r.run_id: r.worker for r in conn.execute(query)}

    def mark_interrupted(self, keep: set[str] = frozenset(), only: set[str] | None = None) -> list[str]:
        """Active runs (of every owner for an admin, else this owner's; or `only` these) that no thread works on
        become 'interrupted'; returns their ids."""
        query = sa.select(runs.c.id).where(runs.c.status.in_(ACTIVE))
        if not (self.admin and only is None):
            query = query.where(runs.c.owner == self.owner)
        with self._changing() as (conn, said):
            found = conn.execute(query).scalars().all()
            ids = [r for r in found if r not in keep and (only is None or r in only)]
            _interrupt(conn, ids, INTERRUPTED_BY_RESTART, said)
        return ids


class _LostRace(Exception):
    """Another worker took an owner's last free place between this claim's look and its lock."""


def _interrupt(conn: Connection, run_ids: list[str], why: str, said: list[notify.Signal]) -> None:
    if not run_ids:
        return
    said.extend([*(notify.state(r) for r in run_ids), notify.QUEUE_CHANGED])
    conn.execute(runs.update().where(runs.c.id.in_(run_ids)).values(status="interrupted", error=why))
    conn.execute(
        turns.update()
        .where(turns.c.run_id.in_(run_ids), turns.c.status.in_(ACTIVE))
        .values(status="interrupted", finished_at=time.time())
    )


def turns_ahead(snapshot: QueueSnapshot, run_id: str, idx: int, max_per_owner: int = 0) -> tuple[int, bool] | None:
    """How many queued turns the claim order (`TurnQueue.claim_turn`) takes before this one, and whether its
    owner's share holds it back (they already run `max_per_owner` turns, so it waits for one of theirs to end);
    None if it is not queued. Round by round, each owner in turn (the one who waited longest since their last
    claim first) gives their oldest turn; an owner gives no more than they may still start now."""
    by_owner: dict[str, list[QueuedTurn]] = {}
    for queued in sorted(snapshot.queued, key=lambda q: q.started_at):
        by_owner.setdefault(queued.owner, []).append(queued)
    mine = next((q for q in snapshot.queued if (q.run_id, q.idx) == (run_id, idx)), None)
    if mine is None:
        return None

    def allowance(owner: str) -> int:
        if not max_per_owner:
            return len(by_owner[owner])
        return min(len(by_owner[owner]), max(0, max_per_owner - snapshot.running.get(owner, 0)))

    order = sorted(by_owner, key=lambda o: (snapshot.last_claim.get(o, 0.0), by_owner[o][0].started_at))
    place = next(i for i, q in enumerate(by_owner[mine.owner]) if q is mine)
    held = place >= allowance(mine.owner)
    ahead = 0
    for owner in order:
        others = min(place, allowance(owner))
        if owner == mine.owner:
            ahead += others
        else:
            ahead += others + (1 if order.index(owner) < order.index(mine.owner) and allowance(owner) > place else 0)
    return ahead, held
