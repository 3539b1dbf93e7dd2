"""The store: owner-scoped reads and writes of runs, their turns and transcript items, together with the
files catalogue, artifacts, users and the queue of turns (SQLAlchemy Core; SQLite by default, PostgreSQL for
teams).

Each part is a small class over the same `Scope` (one database as one owner sees it), in its own module;
`Store` puts them together, so a page, a job or a worker holds one object scoped to one owner.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from lib.errors import NotAllowedError
from lib.storage import notify, search
from lib.storage.artifacts import Artifacts
from lib.storage.catalogue import Catalogue
from lib.storage.db import artifacts, files, items, queue_owners, runs, turns
from lib.storage.queue import TurnQueue
from lib.storage.records import RunRecord, StoredItem, TurnRecord, clean_name
from lib.storage.users import Users
from lib.transcript import GeneratedFile, Item, Output, Usage, item_from_dict

# what a refused action on a run says: to someone who can read it, and to anyone else (as if it did not exist)
_READ_ONLY = (
    "This run belongs to someone else and was shared with you read-only.",
    "Start your own analysis on the Analyze page to ask questions.",
)
_NOT_FOUND = (
    "That run was not found: it was deleted, or it is not yours and not shared.",
    "Open one of your runs from the list on the Analyze page.",
)


class Store(Catalogue, Artifacts, Users, TurnQueue):
    """The database, scoped to one owner; safe to share between threads.

    `Store(data_dir)` is the single-user store (LOCAL_OWNER, admin) in a SQLite file of the data directory;
    `url` (ANALYST_DATABASE_URL) names another database. `as_owner` gives another owner's view of the same
    database. Methods that look across owners (users, usage, claiming, the queue) need `admin`.
    """

    # --- runs ----------------------------------------------------------------------------

    def create_run(
        self,
        title: str,
        model: str,
        tool_version: str,
        file_ids: list[str],
        demo: bool = False,
        budget_usd: float = 0.0,
        replay_of: str = "",
        sources: list[str] | None = None,
    ) -> RunRecord:
        """A new run of this owner, queued (a replay names the run it replays; `sources` names the SQL sources
        picked for it)."""
        now = time.time()
        run_id = uuid.uuid4().hex
        with self._begin() as conn:
            conn.execute(
                runs.insert().values(
                    id=run_id,
                    title=title[:300],
                    created_at=now,
                    updated_at=now,
                    status="queued",
                    model=model,
                    tool_version=tool_version,
                    file_ids=json.dumps(file_ids),
                    demo=int(demo),
                    budget_usd=max(float(budget_usd), 0.0),
                    owner=self.owner,
                    replay_of=replay_of,
                    sources=json.dumps(list(sources or [])),
                )
            )
        run = self.run(run_id)
        assert run is not None
        return run

    def run(self, run_id: str) -> RunRecord | None:
        """One run this owner may read (their own, or one shared with everyone signed in), or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id, self._readable())).mappings().first()
        return RunRecord.from_row(row) if row else None

    def owns(self, run: RunRecord) -> bool:
        """Whether this owner may change the run (ask, budget, share, delete), not just read it."""
        return run.owner == self.owner

    def readable_run(self, run_id: str) -> RunRecord:
        """A run this owner may read; NotAllowedError otherwise, the same whether it exists or not."""
        run = self.run(run_id)
        if run is None:
            raise NotAllowedError(*_NOT_FOUND)
        return run

    def own_run(self, run_id: str) -> RunRecord:
        """One of this owner's runs, to change; NotAllowedError otherwise (a run shared with them read-only says
        so, any other reads as not found)."""
        run = self.readable_run(run_id)
        if not self.owns(run):
            raise NotAllowedError(*_READ_ONLY)
        return run

    def runs(self, limit: int = 50) -> list[RunRecord]:
        """This owner's runs, most recently active first."""
        query = sa.select(runs).where(runs.c.owner == self.owner).order_by(runs.c.updated_at.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [RunRecord.from_row(r) for r in rows]

    def search_runs(self, query: str | search.RunQuery, limit: int = 50) -> list[RunRecord]:
        """This owner's runs that match a search (see lib/storage/search.py), most recently active first."""
        if isinstance(query, str):
            query = search.parse(query)
        where = search.conditions(query, self.owner, self.engine.dialect.name)
        select = sa.select(runs).where(*where).order_by(runs.c.updated_at.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(select).mappings().all()
        return [RunRecord.from_row(r) for r in rows]

    def runs_named(self, name: str, limit: int = 10) -> list[RunRecord]:
        """This owner's runs called `name` (in any case), most recently active first."""
        wanted = clean_name(name)
        if not wanted:
            return []
        query = (
            sa.select(runs).where(runs.c.owner == self.owner, search.named(wanted)).order_by(runs.c.updated_at.desc())
        )
        with self._read() as conn:
            found = [RunRecord.from_row(r) for r in conn.execute(query).mappings().all()]
        # the database folds only ASCII letters; Python decides for the rest
        return [r for r in found if r.name.casefold() == wanted.casefold()][:limit]

    def rename_run(self, run_id: str, name: str) -> RunRecord:
        """Give one of this owner's runs a name: trimmed to one line of at most NAME_LIMIT characters; empty (or
        its title) gives it back its title. Anyone else is refused."""
        cleaned = clean_name(name)
        with self._changing(notify.state(run_id)) as (conn, _):
            title = conn.execute(
                sa.select(runs.c.title).where(runs.c.id == run_id, runs.c.owner == self.owner)
            ).scalar()
            if title is None:
                shared = conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id, self._readable())).first()
                raise NotAllowedError(
                    "This run belongs to someone else and was shared with you read-only."
                    if shared
                    else "There is no such run of yours.",
                    "Only the run's owner can rename it.",
                )
            kept = "" if cleaned == title else cleaned  # not renamed: the name follows the title
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.owner == self.owner).values(name=kept))
        run = self.run(run_id)
        assert run is not None
        return run

    def replays(self, run_id: str) -> list[RunRecord]:
        """This owner's replays of a run, newest first."""
        query = sa.select(runs).where(runs.c.owner == self.owner, runs.c.replay_of == run_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(runs.c.created_at.desc())).mappings().all()
        return [RunRecord.from_row(r) for r in rows]

    def update_run(self, run_id: str, **values: Any) -> bool:
        """Change some columns of one of this owner's runs and touch it; returns whether it is theirs."""
        for key in ("file_ids", "sources"):
            if key in values:
                values[key] = json.dumps(values[key])
        if "shared" in values:
            values["shared"] = int(bool(values["shared"]))
        values.pop("owner", None)
        values["updated_at"] = time.time()
        with self._changing(notify.state(run_id)) as (conn, said):
            mine = runs.update().where(runs.c.id == run_id, runs.c.owner == self.owner)
            if conn.execute(mine.values(**values)).rowcount > 0:
                return True
            said.clear()
            return False

    def settle_turn(self, run_id: str, idx: int, status: str, run_error: str = "", **turn_values: Any) -> bool:
        """End a turn of one of this owner's runs and the run with it in one write, so no reader sees either
        settled without the other; returns whether the run is theirs."""
        with self._changing(notify.state(run_id), notify.QUEUE_CHANGED) as (conn, said):
            mine = runs.update().where(runs.c.id == run_id, runs.c.owner == self.owner)
            if conn.execute(mine.values(status=status, error=run_error, updated_at=time.time())).rowcount == 0:
                said.clear()
                return False
            turn = turns.update().where(turns.c.run_id == run_id, turns.c.idx == idx)
            conn.execute(turn.values(status=status, **turn_values))
        return True

    def delete_run(self, run_id: str) -> bool:
        """Remove one of this owner's runs with its turns, items and artifact rows (files are the caller's);
        returns whether there was one."""
        with self._changing(notify.state(run_id), notify.QUEUE_CHANGED) as (conn, said):
            if conn.execute(runs.delete().where(runs.c.id == run_id, runs.c.owner == self.owner)).rowcount > 0:
                return True
            said.clear()
            return False

    def count_runs(self) -> int:
        """How many runs this owner has (what `runs()` would list without a limit)."""
        query = sa.select(sa.func.count()).select_from(runs).where(runs.c.owner == self.owner)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    # --- files anyone here knows ----------------------------------------------------------

    def known_file_ids(self, file_ids: Iterable[str]) -> set[str]:
        """Which of these file ids anyone here knows: an upload in any owner's catalogue, or a file any owner's
        run generated, kept or not (admins only: to tell the workspace's files nobody here knows)."""
        self._require_admin()
        wanted = set(file_ids)
        known: set[str] = set()
        with self._begin() as conn:
            for chunk in _chunks(sorted(wanted), 500):
                known.update(conn.execute(sa.select(files.c.id).where(files.c.id.in_(chunk))).scalars())
                made = sa.select(artifacts.c.file_id).where(artifacts.c.file_id.in_(chunk))
                known.update(conn.execute(made).scalars())
            # a generated file whose download failed, or that was deleted from the gallery, is only in its run's
            # transcript: its file item, or the output of the code that made it
            for chunk in _chunks(sorted(wanted - known), 100):
                mentions = sa.or_(*(items.c.data.contains(f'"{file_id}"', autoescape=True) for file_id in chunk))
                query = sa.select(items.c.data).where(items.c.kind.in_((GeneratedFile.kind, Output.kind)), mentions)
                for data in conn.execute(query).scalars():
                    item = json.loads(data)
                    known.update({item.get("file_id"), *item.get("file_ids", [])} & set(chunk))
        return known

    # --- turns ---------------------------------------------------------------------------

    def add_turn(
        self,
        run_id: str,
        question: str,
        user_content: list[dict[str, Any]],
        request: dict[str, Any] | None = None,
    ) -> int:
        """Append a turn to one of this owner's runs; returns its index. With a `request` it is queued for a
        worker, without one it counts as running here and now."""
        status = "queued" if request is not None else "running"
        now = time.time()
        signals = [notify.state(run_id)] + ([notify.QUEUE_CHANGED] if request is not None else [])
        with self._changing(*signals) as (conn, _):
            if not self._owned(conn, run_id):
                readable = conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id, self._readable())).first()
                raise NotAllowedError(*(_READ_ONLY if readable else _NOT_FOUND))
            last = conn.execute(sa.select(sa.func.max(turns.c.idx)).where(turns.c.run_id == run_id)).scalar()
            idx = 0 if last is None else int(last) + 1
            conn.execute(
                turns.insert().values(
                    run_id=run_id,
                    idx=idx,
                    question=question,
                    status=status,
                    started_at=now,
                    user_content=json.dumps(user_content),
                    request=json.dumps(request or {}),
                )
            )
            conn.execute(runs.update().where(runs.c.id == run_id).values(status=status, error="", updated_at=now))
            if request is not None:  # the fair queue claims only turns whose owner has a place in it
                stmt = self._insert(queue_owners).values(owner=self.owner)
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["owner"]))
        return idx

    def update_turn(self, run_id: str, idx: int, **values: Any) -> bool:
        """Change some columns of a turn of one of this owner's runs; returns whether it is theirs."""
        for key in ("user_content", "assistant_content"):
            if key in values:
                values[key] = json.dumps(values[key])
        if "usage" in values and isinstance(values["usage"], Usage):
            values["usage"] = json.dumps(values["usage"].__dict__)
        # a turn that ends frees its owner's place in the queue
        signals = [notify.state(run_id)] + ([notify.QUEUE_CHANGED] if "status" in values else [])
        with self._changing(*signals) as (conn, said):
            if not self._owned(conn, run_id):
                said.clear()
                return False
            conn.execute(turns.update().where(turns.c.run_id == run_id, turns.c.idx == idx).values(**values))
            conn.execute(runs.update().where(runs.c.id == run_id).values(updated_at=time.time()))
        return True

    def turn(self, run_id: str, idx: int) -> TurnRecord | None:
        """One turn of a readable run."""
        found = self._turns(turns.c.run_id == run_id, turns.c.idx == idx)
        return found[0] if found else None

    def turns(self, run_id: str) -> list[TurnRecord]:
        """A readable run's turns in order."""
        return self._turns(turns.c.run_id == run_id)

    def questions(self, run_id: str) -> list[str]:
        """A readable run's questions in order (without reading its answers)."""
        query = (
            sa.select(turns.c.question)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.run_id == run_id, self._readable())
            .order_by(turns.c.idx)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def set_trace(self, run_id: str, idx: int, trace: dict[str, Any]) -> bool:
        """Keep the traced numbers of a turn of one of this owner's runs (lib.tracing's serialisable form); returns
        whether it is theirs."""
        return self.update_turn(run_id, idx, trace=json.dumps(trace))

    def traces(self, run_id: str) -> dict[int, dict[str, Any]]:
        """The kept traces of a readable run's turns, by turn index (turns not traced are left out)."""
        query = (
            sa.select(turns.c.idx, turns.c.trace)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.run_id == run_id, turns.c.trace.is_not(None), self._readable())
        )
        with self._read() as conn:
            return {idx: json.loads(data) for idx, data in conn.execute(query).all()}

    def find_runs(self, id_prefix: str, limit: int = 2) -> list[RunRecord]:
        """This owner's runs whose id starts with `id_prefix` (at most `limit`)."""
        if not id_prefix or id_prefix.strip("0123456789abcdef"):  # run ids are hex: nothing else can match
            return []
        query = sa.select(runs).where(runs.c.owner == self.owner, runs.c.id.like(id_prefix + "%")).limit(limit)
        with self._read() as conn:
            return [RunRecord.from_row(r) for r in conn.execute(query).mappings().all()]

    def _turns(self, *where: Any) -> list[TurnRecord]:
        query = (
            sa.select(turns)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(*where, self._readable())
            .order_by(turns.c.idx)
        )
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [TurnRecord.from_row(r) for r in rows]

    # --- items ---------------------------------------------------------------------------

    def put_item(self, run_id: str, turn_idx: int, seq: int, item: Item) -> bool:
        """Insert or update one transcript item of one of this owner's runs; returns whether it is theirs."""
        return self.put_items(run_id, turn_idx, {seq: item})

    def put_items(self, run_id: str, turn_idx: int, batch: dict[int, Item]) -> bool:
        """Insert or update transcript items of a turn of one of this owner's runs (by position), in one statement,
        and tell watchers of the run; returns whether the run is theirs."""
        if not batch:
            return True
        owned = sa.exists().where(runs.c.id == run_id, runs.c.owner == self.owner)
        now = time.time()
        rows = [
            sa.select(
                sa.literal(run_id, sa.Text),
                sa.literal(turn_idx, sa.Integer),
                sa.literal(seq, sa.Integer),
                sa.literal(item.kind, sa.Text),
                sa.literal(json.dumps(item.to_dict()), sa.Text),
                sa.literal(now, sa.Float),
            ).where(owned)
            for seq, item in batch.items()
        ]
        source = rows[0] if len(rows) == 1 else sa.union_all(*rows)
        stmt = self._insert(items).from_select(["run_id", "turn_idx", "seq", "kind", "data", "updated_at"], source)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "turn_idx", "seq"],
            set_={"kind": stmt.excluded.kind, "data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
        )
        with self._changing(notify.items(run_id)) as (conn, said):
            # rows come back only when they were written (PostgreSQL counts no rows here)
            if conn.execute(stmt.returning(items.c.seq)).first() is not None:
                return True
            said.clear()
            return False

    def items(self, run_id: str, turn_idx: int | None = None, since: float | None = None) -> list[StoredItem]:
        """Transcript items of a readable run (or of one of its turns), in order; with `since`, only those
        written at or after that time (the live view's watermark)."""
        where = [items.c.run_id == run_id]
        if turn_idx is not None:
            where.append(items.c.turn_idx == turn_idx)
        if since is not None:
            where.append(items.c.updated_at >= since)
        query = (
            sa.select(items.c.turn_idx, items.c.seq, items.c.data, items.c.updated_at)
            .join(runs, runs.c.id == items.c.run_id)
            .where(*where, self._readable())
            .order_by(items.c.turn_idx, items.c.seq)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [StoredItem(r.turn_idx, r.seq, item_from_dict(json.loads(r.data)), r.updated_at) for r in rows]

    def next_seq(self, run_id: str, turn_idx: int) -> int:
        """The first free item position in a turn of one of this owner's runs."""
        query = (
            sa.select(sa.func.max(items.c.seq))
            .join(runs, runs.c.id == items.c.run_id)
            .where(items.c.run_id == run_id, items.c.turn_idx == turn_idx, runs.c.owner == self.owner)
        )
        with self._read() as conn:
            last = conn.execute(query).scalar()
        return 0 if last is None else int(last) + 1


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
