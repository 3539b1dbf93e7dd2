"""One database as one owner sees it: the base of every part of the store.

Every row belongs to an owner (an OIDC issuer + subject, or LOCAL_OWNER without sign-in). The parts of the
store (catalogue, runs, artifacts, users, queue) build their queries on a `Scope` and keep them to its owner;
turns, items and artifacts belong to the owner of their run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lib.errors import NotAllowedError
from lib.identity import LOCAL_OWNER
from lib.storage import db, notify
from lib.storage.db import runs
from lib.storage.notify import Signal, Signals


@dataclass
class Scope:
    """A database scoped to one owner; safe to share between threads.

    `data_dir` alone is the single-user database (LOCAL_OWNER, admin) in a SQLite file of the data directory;
    `url` (ANALYST_DATABASE_URL) names another database. `as_owner` gives another owner's view of the same
    database. Queries that look across owners need `admin`.
    """

    data_dir: Path
    owner: str = LOCAL_OWNER
    admin: bool = True
    url: str = ""
    engine: Engine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if not self.url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.url = db.sqlite_url(self.data_dir)
        self.engine = db.engine_for(self.url)  # NewerDatabaseError (a RuntimeError) for a newer app's database
        self.path = self.data_dir / db.SQLITE_NAME

    def as_owner(self, owner: str, admin: bool = False) -> Self:
        """The same database as seen by `owner` (no schema check again)."""
        view = copy.copy(self)
        view.owner, view.admin = owner, admin
        return view

    @property
    def embedded(self) -> bool:
        """Whether this is the single-process SQLite default (no other process runs its turns)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def location(self) -> str:
        """Which database this is, without any password."""
        return str(self.path) if self.embedded else self.engine.url.render_as_string(hide_password=True)

    def _require_admin(self) -> None:
        if not self.admin:
            raise NotAllowedError("Only an admin of this app can look across users.")

    def _begin(self) -> Any:
        return self.engine.begin()

    def _read(self) -> Any:
        """A connection for a read of one statement: with PostgreSQL outside any transaction, which spares the
        BEGIN and COMMIT round trips; with SQLite as every other use (its transactions are local calls)."""
        if self.engine.dialect.name == "postgresql":
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._begin()

    @property
    def signals(self) -> Signals:
        """This process's change signals for this database (what watchers wait on instead of polling)."""
        return notify.signals_for(self.engine)

    @contextmanager
    def _changing(self, *signals: Signal) -> Iterator[tuple[Connection, list[Signal]]]:
        """A write transaction that tells `signals`, and any the body adds to the list, once it commits."""
        said = list(signals)
        with self._begin() as conn:
            yield conn, said
            notify.send(conn, said)
        notify.raise_local(self.engine, said)

    def _insert(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _readable(self) -> Any:
        """A run row this owner may read: their own, or one shared with everyone signed in."""
        return sa.or_(runs.c.owner == self.owner, runs.c.shared == 1)

    def _owned(self, conn: Connection, run_id: str) -> bool:
        """Whether the run is this owner's (theirs to change, not just to read)."""
        query = sa.select(sa.literal(1)).where(runs.c.id == run_id, runs.c.owner == self.owner)
        return conn.execute(query).first() is not None
