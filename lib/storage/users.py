"""Who has signed in, the monthly budgets admins give them, what their turns used, and a user's view of the store."""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

import sqlalchemy as sa

from lib.identity import LOCAL_OWNER, User
from lib.storage.db import files, runs, turns, users
from lib.storage.records import TurnRecord, TurnUsage, UserRecord
from lib.storage.scope import Scope

S = TypeVar("S", bound=Scope)


class Users(Scope):
    """Reads and writes of user rows, and usage across runs (looking across owners needs an admin)."""

    def touch_user(self, email: str, name: str) -> None:
        """Remember that this owner signed in, with the email and name to show for them."""
        now = time.time()
        stmt = self._insert(users).values(owner=self.owner, email=email, name=name, first_seen=now, last_seen=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["owner"],
            set_={"email": stmt.excluded.email, "name": stmt.excluded.name, "last_seen": stmt.excluded.last_seen},
        )
        with self._begin() as conn:
            conn.execute(stmt)

    def user(self) -> UserRecord | None:
        """This owner's user record, if they have signed in (or an admin gave them a budget)."""
        with self._begin() as conn:
            row = conn.execute(sa.select(users).where(users.c.owner == self.owner)).mappings().first()
        return UserRecord(**row) if row else None

    def display_name(self, owner: str) -> str:
        """How to name the owner of a run shared with this owner: their email (or name) as they signed in. Only
        someone who shares a run is named so (or anyone, to an admin)."""
        named = sa.select(users.c.email, users.c.name).where(users.c.owner == owner)
        if owner != self.owner and not self.admin:
            named = named.where(sa.exists().where(runs.c.owner == owner, runs.c.shared == 1))
        with self._begin() as conn:
            row = conn.execute(named).first()
        return (row.email or row.name) if row and (row.email or row.name) else "another user"

    def users(self) -> list[UserRecord]:
        """Everyone who has signed in, by email (admins only)."""
        self._require_admin()
        with self._begin() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.email, users.c.owner)).mappings().all()
        return [UserRecord(**r) for r in rows]

    def set_monthly_budget(self, owner: str, budget_usd: float) -> None:
        """An owner's monthly budget in USD, 0 for none (admins only)."""
        self._require_admin()
        now = time.time()
        budget = max(float(budget_usd), 0.0)
        stmt = self._insert(users).values(owner=owner, first_seen=now, last_seen=now, monthly_budget_usd=budget)
        stmt = stmt.on_conflict_do_update(
            index_elements=["owner"], set_={"monthly_budget_usd": stmt.excluded.monthly_budget_usd}
        )
        with self._begin() as conn:
            conn.execute(stmt)

    def turn_usage_since(self, since: float, every_owner: bool = False) -> list[TurnUsage]:
        """What the turns started at or after `since` used, of this owner (or, for an admin, of everyone): their
        usage and whether they used a container, never their questions or answers."""
        if every_owner:
            self._require_admin()
        uploaded = turns.c.user_content.contains('"container_upload"', autoescape=True).label("uploaded")
        counted = [c for c in turns.c if c.name not in ("question", "user_content", "assistant_content", "request")]
        query = (
            sa.select(runs.c.owner.label("run_owner"), runs.c.model.label("run_model"), uploaded, *counted)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.started_at >= since)
            .order_by(turns.c.started_at)
        )
        if not every_owner:
            query = query.where(runs.c.owner == self.owner)
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [TurnUsage(r["run_owner"], r["run_id"], r["run_model"], _usage_only(r)) for r in rows]

    def take_over_local_data(self) -> int:
        """Give every file and run made before sign-in was switched on to this admin; returns how many runs."""
        self._require_admin()
        if self.owner == LOCAL_OWNER:
            return 0
        with self._begin() as conn:
            conn.execute(files.update().where(files.c.owner == LOCAL_OWNER).values(owner=self.owner))
            taken = conn.execute(runs.update().where(runs.c.owner == LOCAL_OWNER).values(owner=self.owner))
        return taken.rowcount


def _usage_only(row: Any) -> TurnRecord:
    """A turn as usage counts see it: without its question or content (a container upload only marked)."""
    marker = [{"type": "container_upload"}] if row["uploaded"] else []
    values = {**row, "question": "", "user_content": json.dumps(marker), "assistant_content": "[]"}
    return TurnRecord.from_row(values)


def store_for(store: S, user: User) -> S:
    """The user's view of the store: every query of it is scoped to their data."""
    if not user.signed_in:
        return store.as_owner(LOCAL_OWNER, admin=True)
    return store.as_owner(user.owner, admin=user.admin)


def welcome(store: Users, user: User) -> int:
    """Once per sign-in: remember the user; an admin takes over data made before sign-in was switched on.

    Returns how many runs were taken over."""
    if not user.signed_in:
        return 0
    store.touch_user(user.email, user.name)
    return store.take_over_local_data() if user.admin else 0
