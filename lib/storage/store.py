"""Persistence on SQLAlchemy Core (SQLite by default, PostgreSQL for teams): files catalogue, runs, turns,
transcript items, artifacts, users, and the queue of turns that workers claim.

Every row belongs to an owner (an OIDC issuer + subject, or LOCAL_OWNER without sign-in) and every query of a
`Store` is scoped to its owner: turns, items and artifacts belong to the owner of their run. The queue methods
(claim, heartbeat, reap) look across owners and are for workers.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lib.errors import AppError
from lib.storage import db
from lib.storage.db import LOCAL_OWNER, artifacts, files, items, runs, turns, users
from lib.transcript import Item, Usage, item_from_dict

ACTIVE = ("queued", "running")
INTERRUPTED_BY_RESTART = "The app stopped while this run was in progress; what arrived before that is kept."
INTERRUPTED_BY_WORKER = (
    "The worker running this analysis stopped answering, so it was cut off; what arrived before that is kept. "
    "Ask a follow-up to go on."
)


@dataclass(frozen=True)
class FileRecord:
    """A file in the local catalogue (uploaded by the user)."""

    id: str
    filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    kind: str
    local_path: str
    created_at: float
    remote_missing: bool = False
    notes: str = ""
    owner: str = LOCAL_OWNER


@dataclass(frozen=True)
class Run:
    """One conversation: a first question and its follow-ups, in one container."""

    id: str
    title: str
    created_at: float
    updated_at: float
    status: str
    model: str
    tool_version: str
    container_id: str
    container_expires_at: str
    file_ids: list[str]
    error: str
    demo: bool
    budget_usd: float = 0.0  # 0: no limit
    owner: str = LOCAL_OWNER
    shared: bool = False  # readable by everyone signed in
    replay_of: str = ""  # the run whose questions this one asks again on other files

    @property
    def active(self) -> bool:
        """Whether a job is (or should be) working on it."""
        return self.status in ACTIVE


@dataclass(frozen=True)
class Turn:
    """One question and everything the API answered to it."""

    run_id: str
    idx: int
    question: str
    status: str
    started_at: float
    finished_at: float | None
    user_content: list[dict[str, Any]]
    assistant_content: list[dict[str, Any]]
    usage: Usage
    stop_reason: str
    container_id: str
    requests: int
    error: str


@dataclass(frozen=True)
class StoredItem:
    """A transcript item with its place in the run."""

    turn_idx: int
    seq: int
    item: Item
    updated_at: float = 0.0  # when it was last written: the live view's watermark


@dataclass(frozen=True)
class Artifact:
    """A generated file kept on disk, with where it came from."""

    id: int
    run_id: str
    turn_idx: int
    file_id: str
    filename: str
    mime_type: str
    size_bytes: int
    path: str
    created_at: float
    tool_use_id: str
    question: str = ""


@dataclass(frozen=True)
class ArtifactFilter:
    """Which artifacts the gallery shows."""

    run_id: str = ""
    kind: str = ""  # "image" or "other" or ""
    since: float | None = None
    until: float | None = None
    words: str = ""
    limit: int = 24
    offset: int = 0


@dataclass(frozen=True)
class UserRecord:
    """Someone who has signed in, with the monthly budget an admin gave them."""

    owner: str
    email: str
    name: str
    first_seen: float
    last_seen: float
    monthly_budget_usd: float = 0.0  # 0: no limit


@dataclass(frozen=True)
class TurnUsage:
    """What one turn used, with whose run and which model it was (for monthly usage)."""

    owner: str
    run_id: str
    model: str
    turn: Turn


class NotAllowedError(AppError):
    """Something asked of another user's data, or an admin's operation asked by someone else."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__("Not allowed", message, hint, code="not_allowed")


@dataclass(frozen=True)
class Claim:
    """A queued turn a worker took: whose run it is, which turn, and the request to send."""

    owner: str
    run_id: str
    idx: int
    request: dict[str, Any]
    demo: bool


@dataclass(frozen=True)
class TurnState:
    """Where the newest turn of a run is in the queue."""

    idx: int
    status: str
    worker: str
    lease_until: float
    stop_requested: bool


@dataclass
class Store:
    """The database, scoped to one owner; safe to share between threads.

    `Store(data_dir)` is the single-user store (LOCAL_OWNER, admin) in a SQLite file of the data directory;
    `url` (ANALYST_DATABASE_URL) names another database. `as_owner` gives another owner's view of the same
    database. Methods that look across owners (users, usage, claiming, the queue) need `admin`.
    """

    data_dir: Path
    owner: str = LOCAL_OWNER
    admin: bool = True
    url: str = ""
    engine: Engine = field(init=False, repr=False)

    def as_owner(self, owner: str, admin: bool = False) -> Store:
        """The same database as seen by `owner` (no schema check again)."""
        view = copy.copy(self)
        view.owner, view.admin = owner, admin
        return view

    def _require_admin(self) -> None:
        if not self.admin:
            raise NotAllowedError("Only an admin of this app can look across users.")

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        if not self.url:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.url = db.sqlite_url(self.data_dir)
        self.engine = db.engine_for(self.url)  # NewerDatabaseError (a RuntimeError) for a newer app's database
        self.path = self.data_dir / db.SQLITE_NAME

    @property
    def embedded(self) -> bool:
        """Whether this is the single-process SQLite default (no other process runs its turns)."""
        return self.engine.dialect.name == "sqlite"

    @property
    def location(self) -> str:
        """Which database this is, without any password."""
        return str(self.path) if self.embedded else self.engine.url.render_as_string(hide_password=True)

    def _begin(self) -> Any:
        return self.engine.begin()

    def _insert(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    # --- files ---------------------------------------------------------------------------

    def add_file(self, record: FileRecord) -> None:
        """Insert or replace a catalogue entry of this owner."""
        values = {**record.__dict__, "remote_missing": int(record.remote_missing), "owner": self.owner}
        with self._begin() as conn:
            taken = conn.execute(sa.select(files.c.owner).where(files.c.id == record.id)).first()
            if taken and taken.owner != self.owner:
                raise NotAllowedError(f"The file {record.id} belongs to someone else.")
            stmt = self._insert(files).values(values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))

    def set_file_notes(self, file_id: str, notes: str) -> None:
        """Keep the analyst's notes about a file (column meanings, units, rules); sent with every analysis."""
        with self._begin() as conn:
            conn.execute(
                files.update().where(files.c.id == file_id, files.c.owner == self.owner).values(notes=notes.strip())
            )

    def files(self) -> list[FileRecord]:
        """This owner's catalogue, newest first."""
        return self._files()

    def file(self, file_id: str) -> FileRecord | None:
        """One catalogue entry of this owner."""
        return next(iter(self._files(files.c.id == file_id)), None)

    def file_by_hash(self, sha256: str) -> FileRecord | None:
        """A file of this owner already uploaded with the same content, if any."""
        return next(iter(self._files(files.c.sha256 == sha256, files.c.remote_missing == 0)), None)

    def _files(self, *where: Any) -> list[FileRecord]:
        query = sa.select(files).where(files.c.owner == self.owner, *where).order_by(files.c.created_at.desc())
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [FileRecord(**{**r, "remote_missing": bool(r["remote_missing"])}) for r in rows]

    def known_file_ids(self) -> set[str]:
        """Ids of every catalogued file of every owner (admins: to tell files nobody here knows)."""
        self._require_admin()
        with self._begin() as conn:
            return set(conn.execute(sa.select(files.c.id)).scalars())

    def catalogued_by_anyone(self, file_id: str) -> bool:
        """Whether any owner's catalogue holds this file id (admins: to tell files nobody here knows)."""
        self._require_admin()
        with self._begin() as conn:
            return conn.execute(sa.select(sa.literal(1)).where(files.c.id == file_id)).first() is not None

    def remove_file(self, file_id: str) -> None:
        """Drop a catalogue entry of this owner."""
        with self._begin() as conn:
            conn.execute(files.delete().where(files.c.id == file_id, files.c.owner == self.owner))

    def flag_remote_missing(self, file_id: str) -> None:
        """Flag one of this owner's catalogue entries as gone from the API."""
        with self._begin() as conn:
            conn.execute(
                files.update().where(files.c.id == file_id, files.c.owner == self.owner).values(remote_missing=1)
            )

    def mark_remote(self, present_ids: set[str]) -> None:
        """Flag this owner's catalogue entries the remote list no longer has."""
        present = list(present_ids)
        with self._begin() as conn:
            mine = files.c.owner == self.owner
            conn.execute(files.update().where(mine, files.c.id.in_(present)).values(remote_missing=0))
            conn.execute(files.update().where(mine, files.c.id.not_in(present)).values(remote_missing=1))

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
    ) -> Run:
        """A new run of this owner, queued (a replay names the run it replays)."""
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
                )
            )
        run = self.run(run_id)
        assert run is not None
        return run

    def _readable(self) -> Any:
        """A run row this owner may read: their own, or one shared with everyone signed in."""
        return sa.or_(runs.c.owner == self.owner, runs.c.shared == 1)

    def run(self, run_id: str) -> Run | None:
        """One run this owner may read (their own, or one shared with everyone signed in), or None."""
        with self._begin() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id == run_id, self._readable())).mappings().first()
        return _run(row) if row else None

    def owns(self, run: Run) -> bool:
        """Whether this owner may change the run (ask, budget, share, delete), not just read it."""
        return run.owner == self.owner

    def runs(self, limit: int = 50) -> list[Run]:
        """This owner's runs, most recently active first."""
        query = sa.select(runs).where(runs.c.owner == self.owner).order_by(runs.c.updated_at.desc()).limit(limit)
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [_run(r) for r in rows]

    def replays(self, run_id: str) -> list[Run]:
        """This owner's replays of a run, newest first."""
        query = sa.select(runs).where(runs.c.owner == self.owner, runs.c.replay_of == run_id)
        with self._begin() as conn:
            rows = conn.execute(query.order_by(runs.c.created_at.desc())).mappings().all()
        return [_run(r) for r in rows]

    def update_run(self, run_id: str, **values: Any) -> None:
        """Change some columns of one of this owner's runs and touch it."""
        if "file_ids" in values:
            values["file_ids"] = json.dumps(values["file_ids"])
        if "shared" in values:
            values["shared"] = int(bool(values["shared"]))
        values.pop("owner", None)
        values["updated_at"] = time.time()
        with self._begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id, runs.c.owner == self.owner).values(**values))

    def delete_run(self, run_id: str) -> None:
        """Remove one of this owner's runs with its turns, items and artifact rows (files are the caller's)."""
        with self._begin() as conn:
            conn.execute(runs.delete().where(runs.c.id == run_id, runs.c.owner == self.owner))

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

    # --- turns ---------------------------------------------------------------------------

    def start_turn(
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
        with self._begin() as conn:
            if not _owned(conn, run_id, self.owner):
                raise NotAllowedError(
                    "This run belongs to someone else and was shared with you read-only.",
                    "Start your own analysis on the Analyze page to ask questions.",
                )
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
        return idx

    def update_turn(self, run_id: str, idx: int, **values: Any) -> None:
        """Change some columns of a turn of one of this owner's runs."""
        for key in ("user_content", "assistant_content"):
            if key in values:
                values[key] = json.dumps(values[key])
        if "usage" in values and isinstance(values["usage"], Usage):
            values["usage"] = json.dumps(values["usage"].__dict__)
        with self._begin() as conn:
            if not _owned(conn, run_id, self.owner):
                return
            conn.execute(turns.update().where(turns.c.run_id == run_id, turns.c.idx == idx).values(**values))
            conn.execute(runs.update().where(runs.c.id == run_id).values(updated_at=time.time()))

    def turn(self, run_id: str, idx: int) -> Turn | None:
        """One turn of a readable run."""
        found = self._turns(turns.c.run_id == run_id, turns.c.idx == idx)
        return found[0] if found else None

    def turns(self, run_id: str) -> list[Turn]:
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
        with self._begin() as conn:
            return list(conn.execute(query).scalars())

    def find_runs(self, id_prefix: str, limit: int = 2) -> list[Run]:
        """This owner's runs whose id starts with `id_prefix` (at most `limit`)."""
        if not id_prefix or id_prefix.strip("0123456789abcdef"):  # run ids are hex: nothing else can match
            return []
        query = sa.select(runs).where(runs.c.owner == self.owner, runs.c.id.like(id_prefix + "%")).limit(limit)
        with self._begin() as conn:
            return [_run(r) for r in conn.execute(query).mappings().all()]

    def _turns(self, *where: Any) -> list[Turn]:
        query = (
            sa.select(turns)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(*where, self._readable())
            .order_by(turns.c.idx)
        )
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [_turn(r) for r in rows]

    # --- items ---------------------------------------------------------------------------

    def put_item(self, run_id: str, turn_idx: int, seq: int, item: Item) -> None:
        """Insert or update one transcript item of one of this owner's runs."""
        owned = sa.exists().where(runs.c.id == run_id, runs.c.owner == self.owner)
        row = sa.select(
            sa.literal(run_id, sa.Text),
            sa.literal(turn_idx, sa.Integer),
            sa.literal(seq, sa.Integer),
            sa.literal(item.kind, sa.Text),
            sa.literal(json.dumps(item.to_dict()), sa.Text),
            sa.literal(time.time(), sa.Float),
        ).where(owned)
        stmt = self._insert(items).from_select(["run_id", "turn_idx", "seq", "kind", "data", "updated_at"], row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "turn_idx", "seq"],
            set_={"kind": stmt.excluded.kind, "data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
        )
        with self._begin() as conn:
            conn.execute(stmt)

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
        with self._begin() as conn:
            rows = conn.execute(query).all()
        return [StoredItem(r.turn_idx, r.seq, item_from_dict(json.loads(r.data)), r.updated_at) for r in rows]

    def next_seq(self, run_id: str, turn_idx: int) -> int:
        """The first free item position in a turn of one of this owner's runs."""
        query = (
            sa.select(sa.func.max(items.c.seq))
            .join(runs, runs.c.id == items.c.run_id)
            .where(items.c.run_id == run_id, items.c.turn_idx == turn_idx, runs.c.owner == self.owner)
        )
        with self._begin() as conn:
            last = conn.execute(query).scalar()
        return 0 if last is None else int(last) + 1

    # --- artifacts -----------------------------------------------------------------------

    def add_artifact(
        self,
        run_id: str,
        turn_idx: int,
        file_id: str,
        filename: str,
        mime_type: str,
        size_bytes: int,
        path: str,
        tool_use_id: str,
    ) -> None:
        """Record a downloaded generated file of one of this owner's runs."""
        values = {
            "run_id": run_id,
            "turn_idx": turn_idx,
            "file_id": file_id,
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": size_bytes,
            "path": path,
            "created_at": time.time(),
            "tool_use_id": tool_use_id,
        }
        with self._begin() as conn:
            if not _owned(conn, run_id, self.owner):
                return
            stmt = self._insert(artifacts).values(values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["run_id", "file_id"], set_=values))

    def _artifact_query(self, *where: Any) -> Any:
        joined = artifacts.join(runs, runs.c.id == artifacts.c.run_id).outerjoin(
            turns, sa.and_(turns.c.run_id == artifacts.c.run_id, turns.c.idx == artifacts.c.turn_idx)
        )
        question = sa.func.coalesce(turns.c.question, runs.c.title).label("question")
        return sa.select(artifacts, question).select_from(joined).where(runs.c.owner == self.owner, *where)

    def artifacts(self, flt: ArtifactFilter = ArtifactFilter()) -> tuple[list[Artifact], int]:
        """This owner's artifacts matching a filter, newest first, and how many match in all."""
        where: list[Any] = []
        if flt.run_id:
            where.append(artifacts.c.run_id == flt.run_id)
        if flt.kind == "image":
            where.append(artifacts.c.mime_type.like("image/%"))
        elif flt.kind == "other":
            where.append(artifacts.c.mime_type.not_like("image/%"))
        if flt.since is not None:
            where.append(artifacts.c.created_at >= flt.since)
        if flt.until is not None:
            where.append(artifacts.c.created_at < flt.until)
        for word in flt.words.split():
            pattern = f"%{word}%"
            where.append(
                sa.or_(
                    turns.c.question.ilike(pattern), runs.c.title.ilike(pattern), artifacts.c.filename.ilike(pattern)
                )
            )
        query = self._artifact_query(*where)
        with self._begin() as conn:
            total = int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0)
            page = query.order_by(artifacts.c.created_at.desc(), artifacts.c.id.desc()).offset(flt.offset)
            if flt.limit >= 0:  # a negative limit means all of them (PostgreSQL refuses LIMIT -1)
                page = page.limit(flt.limit)
            rows = conn.execute(page).mappings().all()
        return [Artifact(**r) for r in rows], total

    def artifact(self, artifact_id: int) -> Artifact | None:
        """One of this owner's artifacts by its row id."""
        with self._begin() as conn:
            row = conn.execute(self._artifact_query(artifacts.c.id == artifact_id)).mappings().first()
        return Artifact(**row) if row else None

    def delete_artifact(self, artifact_id: int) -> None:
        """Forget one of this owner's artifact rows."""
        mine = sa.select(runs.c.id).where(runs.c.owner == self.owner)
        with self._begin() as conn:
            conn.execute(artifacts.delete().where(artifacts.c.id == artifact_id, artifacts.c.run_id.in_(mine)))

    # --- users (sign-in) -----------------------------------------------------------------

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
        """How to name the owner of a run shared with this owner: their email (or name) as they signed in."""
        with self._begin() as conn:
            row = conn.execute(sa.select(users.c.email, users.c.name).where(users.c.owner == owner)).first()
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
        """Turns started at or after `since`, of this owner (or, for an admin, of everyone)."""
        if every_owner:
            self._require_admin()
        query = (
            sa.select(runs.c.owner.label("run_owner"), runs.c.model.label("run_model"), turns)
            .join(runs, runs.c.id == turns.c.run_id)
            .where(turns.c.started_at >= since)
            .order_by(turns.c.started_at)
        )
        if not every_owner:
            query = query.where(runs.c.owner == self.owner)
        with self._begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [TurnUsage(r["run_owner"], r["run_id"], r["run_model"], _turn(r)) for r in rows]

    def claim_local_data(self) -> int:
        """Give every file and run made before sign-in was switched on to this admin; returns how many runs."""
        self._require_admin()
        if self.owner == LOCAL_OWNER:
            return 0
        with self._begin() as conn:
            conn.execute(files.update().where(files.c.owner == LOCAL_OWNER).values(owner=self.owner))
            claimed = conn.execute(runs.update().where(runs.c.owner == LOCAL_OWNER).values(owner=self.owner))
        return claimed.rowcount

    # --- the queue of turns (workers) ----------------------------------------------------

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
            if not _owned(conn, run_id, self.owner):
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

    def count_runs(self) -> int:
        """How many runs this owner has (what `runs()` would list without a limit)."""
        query = sa.select(sa.func.count()).select_from(runs).where(runs.c.owner == self.owner)
        with self._begin() as conn:
            return int(conn.execute(query).scalar_one())


def _owned(conn: Connection, run_id: str, owner: str) -> bool:
    query = sa.select(sa.literal(1)).where(runs.c.id == run_id, runs.c.owner == owner)
    return conn.execute(query).first() is not None


def _interrupt(conn: Connection, run_ids: list[str], why: str) -> None:
    if not run_ids:
        return
    conn.execute(runs.update().where(runs.c.id.in_(run_ids)).values(status="interrupted", error=why))
    conn.execute(
        turns.update()
        .where(turns.c.run_id.in_(run_ids), turns.c.status.in_(ACTIVE))
        .values(status="interrupted", finished_at=time.time())
    )


def _turn(row: Any) -> Turn:
    data = {k: row[k] for k in Turn.__dataclass_fields__}
    data["user_content"] = json.loads(data["user_content"])
    data["assistant_content"] = json.loads(data["assistant_content"])
    data["usage"] = Usage(**json.loads(data["usage"] or "{}"))
    return Turn(**data)


def _run(row: Any) -> Run:
    data = dict(row)
    data["file_ids"] = json.loads(data["file_ids"])
    data["demo"] = bool(data["demo"])
    data["shared"] = bool(data["shared"])
    return Run(**data)
