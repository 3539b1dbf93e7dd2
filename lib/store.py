"""Persistence in SQLite (WAL, versioned schema): files catalogue, runs, turns, transcript items, artifacts.

Every row belongs to an owner (an OIDC issuer + subject, or LOCAL_OWNER without sign-in) and every query of a
`Store` is scoped to its owner: turns, items and artifacts belong to the owner of their run.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.errors import AppError
from lib.transcript import Item, Usage, item_from_dict

SCHEMA_VERSION = 4
LOCAL_OWNER = "local"  # the one user of an app without sign-in; data made then is claimed later
ACTIVE = ("queued", "running")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, filename TEXT NOT NULL, mime_type TEXT NOT NULL, size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '', local_path TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL, remote_missing INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    status TEXT NOT NULL, model TEXT NOT NULL, tool_version TEXT NOT NULL,
    container_id TEXT NOT NULL DEFAULT '', container_expires_at TEXT NOT NULL DEFAULT '',
    file_ids TEXT NOT NULL DEFAULT '[]', error TEXT NOT NULL DEFAULT '', demo INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS turns (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    question TEXT NOT NULL, status TEXT NOT NULL, started_at REAL NOT NULL, finished_at REAL,
    user_content TEXT NOT NULL DEFAULT '[]', assistant_content TEXT NOT NULL DEFAULT '[]',
    usage TEXT NOT NULL DEFAULT '{}', stop_reason TEXT NOT NULL DEFAULT '', container_id TEXT NOT NULL DEFAULT '',
    requests INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, idx)
);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, turn_idx INTEGER NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, data TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (run_id, turn_idx, seq)
);
CREATE TABLE IF NOT EXISTS artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    turn_idx INTEGER NOT NULL, file_id TEXT NOT NULL, filename TEXT NOT NULL, mime_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, path TEXT NOT NULL, created_at REAL NOT NULL, tool_use_id TEXT NOT NULL DEFAULT '',
    UNIQUE (run_id, file_id)
);
CREATE INDEX IF NOT EXISTS artifacts_created ON artifacts(created_at DESC);
CREATE INDEX IF NOT EXISTS runs_updated ON runs(updated_at DESC);
"""


# version -> statements that take the schema from the version before to this one
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE files ADD COLUMN notes TEXT NOT NULL DEFAULT ''"],
    3: ["ALTER TABLE runs ADD COLUMN budget_usd REAL NOT NULL DEFAULT 0"],
    4: [
        f"ALTER TABLE files ADD COLUMN owner TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'",
        f"ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '{LOCAL_OWNER}'",
        "ALTER TABLE runs ADD COLUMN shared INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX IF NOT EXISTS files_owner ON files(owner, created_at DESC)",
        "CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner, updated_at DESC)",
        "CREATE TABLE IF NOT EXISTS users (owner TEXT PRIMARY KEY, email TEXT NOT NULL DEFAULT '', "
        "name TEXT NOT NULL DEFAULT '', first_seen REAL NOT NULL, last_seen REAL NOT NULL, "
        "monthly_budget_usd REAL NOT NULL DEFAULT 0)",
    ],
}


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


@dataclass
class Store:
    """SQLite store in the data directory, scoped to one owner; safe to share between threads.

    `Store(data_dir)` is the single-user store (LOCAL_OWNER, admin); `as_owner` gives another owner's view of
    the same database. Methods that look across owners (users, usage, claiming) need `admin`.
    """

    data_dir: Path
    owner: str = LOCAL_OWNER
    admin: bool = True

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
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "analyst.sqlite3"
        with self._connect(transaction=False) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
            version = int(row[0]) if row else 1
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"The database {self.path} was written by a newer version of this app.")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self._connect() as db:
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(target),))

    @contextmanager
    def _connect(self, transaction: bool = True) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        try:
            if transaction:
                db.execute("BEGIN IMMEDIATE")
            yield db
            if db.in_transaction:
                db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # --- files ---------------------------------------------------------------------------

    def add_file(self, record: FileRecord) -> None:
        """Insert or replace a catalogue entry of this owner."""
        with self._connect() as db:
            taken = db.execute("SELECT owner FROM files WHERE id=?", (record.id,)).fetchone()
            if taken and taken["owner"] != self.owner:
                raise NotAllowedError(f"The file {record.id} belongs to someone else.")
            db.execute(
                "INSERT OR REPLACE INTO files (id, filename, mime_type, size_bytes, sha256, kind, local_path, "
                "created_at, remote_missing, notes, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    record.filename,
                    record.mime_type,
                    record.size_bytes,
                    record.sha256,
                    record.kind,
                    record.local_path,
                    record.created_at,
                    int(record.remote_missing),
                    record.notes,
                    self.owner,
                ),
            )

    def set_file_notes(self, file_id: str, notes: str) -> None:
        """Keep the analyst's notes about a file (column meanings, units, rules); sent with every analysis."""
        with self._connect() as db:
            db.execute("UPDATE files SET notes=? WHERE id=? AND owner=?", (notes.strip(), file_id, self.owner))

    def files(self) -> list[FileRecord]:
        """This owner's catalogue, newest first."""
        return self._files("1=1")

    def file(self, file_id: str) -> FileRecord | None:
        """One catalogue entry of this owner."""
        return next(iter(self._files("id=?", file_id)), None)

    def file_by_hash(self, sha256: str) -> FileRecord | None:
        """A file of this owner already uploaded with the same content, if any."""
        return next(iter(self._files("sha256=? AND remote_missing=0", sha256)), None)

    def _files(self, where: str, *args: Any) -> list[FileRecord]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT * FROM files WHERE owner=? AND {where} ORDER BY created_at DESC", (self.owner, *args)
            ).fetchall()
        return [FileRecord(**{**dict(r), "remote_missing": bool(r["remote_missing"])}) for r in rows]

    def known_file_ids(self) -> set[str]:
        """Ids of every catalogued file of every owner (admins: to tell files nobody here knows)."""
        self._require_admin()
        with self._connect() as db:
            return {r["id"] for r in db.execute("SELECT id FROM files").fetchall()}

    def remove_file(self, file_id: str) -> None:
        """Drop a catalogue entry of this owner."""
        with self._connect() as db:
            db.execute("DELETE FROM files WHERE id=? AND owner=?", (file_id, self.owner))

    def mark_remote(self, present_ids: set[str]) -> None:
        """Flag this owner's catalogue entries the remote list no longer has."""
        with self._connect() as db:
            for row in db.execute("SELECT id FROM files WHERE owner=?", (self.owner,)).fetchall():
                db.execute(
                    "UPDATE files SET remote_missing=? WHERE id=?", (int(row["id"] not in present_ids), row["id"])
                )

    # --- runs ----------------------------------------------------------------------------

    def create_run(
        self,
        title: str,
        model: str,
        tool_version: str,
        file_ids: list[str],
        demo: bool = False,
        budget_usd: float = 0.0,
    ) -> Run:
        """A new run of this owner, queued."""
        now = time.time()
        run_id = uuid.uuid4().hex
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id,title,created_at,updated_at,status,model,tool_version,file_ids,demo,budget_usd,"
                "owner) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    title[:300],
                    now,
                    now,
                    "queued",
                    model,
                    tool_version,
                    json.dumps(file_ids),
                    int(demo),
                    max(float(budget_usd), 0.0),
                    self.owner,
                ),
            )
        run = self.run(run_id)
        assert run is not None
        return run

    def run(self, run_id: str) -> Run | None:
        """One run this owner may read (their own, or one shared with everyone signed in), or None."""
        with self._connect() as db:
            row = db.execute(f"SELECT * FROM runs r WHERE id=? AND {_READABLE}", (run_id, self.owner)).fetchone()
        return _run(row) if row else None

    def owns(self, run: Run) -> bool:
        """Whether this owner may change the run (ask, budget, share, delete), not just read it."""
        return run.owner == self.owner

    def runs(self, limit: int = 50) -> list[Run]:
        """This owner's runs, most recently active first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM runs WHERE owner=? ORDER BY updated_at DESC LIMIT ?", (self.owner, limit)
            ).fetchall()
        return [_run(r) for r in rows]

    def update_run(self, run_id: str, **values: Any) -> None:
        """Change some columns of one of this owner's runs and touch it."""
        if "file_ids" in values:
            values["file_ids"] = json.dumps(values["file_ids"])
        if "shared" in values:
            values["shared"] = int(bool(values["shared"]))
        values.pop("owner", None)
        values["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE runs SET {cols} WHERE id=? AND owner=?", (*values.values(), run_id, self.owner))

    def delete_run(self, run_id: str) -> None:
        """Remove one of this owner's runs with its turns, items and artifact rows (files on disk are the caller's)."""
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id=? AND owner=?", (run_id, self.owner))

    def mark_interrupted(self, keep: set[str] = frozenset(), only: set[str] | None = None) -> list[str]:
        """Active runs (of every owner for an admin, else this owner's; or `only` these) that no thread works on
        become 'interrupted'; returns their ids."""
        scope, args = ("1=1", ()) if self.admin and only is None else ("owner=?", (self.owner,))
        with self._connect() as db:
            rows = db.execute(f"SELECT id FROM runs WHERE status IN {ACTIVE} AND {scope}", args).fetchall()
            ids = [r["id"] for r in rows if r["id"] not in keep and (only is None or r["id"] in only)]
            for run_id in ids:
                db.execute(
                    "UPDATE runs SET status='interrupted', error=? WHERE id=?",
                    ("The app stopped while this run was in progress; what arrived before that is kept.", run_id),
                )
                db.execute(f"UPDATE turns SET status='interrupted' WHERE run_id=? AND status IN {ACTIVE}", (run_id,))
        return ids

    # --- turns ---------------------------------------------------------------------------

    def start_turn(self, run_id: str, question: str, user_content: list[dict[str, Any]]) -> int:
        """Append a turn to one of this owner's runs; returns its index."""
        with self._connect() as db:
            if not _owned(db, run_id, self.owner):
                raise NotAllowedError(
                    "This run belongs to someone else and was shared with you read-only.",
                    "Start your own analysis on the Analyze page to ask questions.",
                )
            row = db.execute("SELECT COALESCE(MAX(idx), -1) + 1 FROM turns WHERE run_id=?", (run_id,)).fetchone()
            idx = int(row[0])
            db.execute(
                "INSERT INTO turns (run_id, idx, question, status, started_at, user_content) VALUES (?,?,?,?,?,?)",
                (run_id, idx, question, "running", time.time(), json.dumps(user_content)),
            )
            db.execute("UPDATE runs SET status='running', error='', updated_at=? WHERE id=?", (time.time(), run_id))
        return idx

    def update_turn(self, run_id: str, idx: int, **values: Any) -> None:
        """Change some columns of a turn of one of this owner's runs."""
        for key in ("user_content", "assistant_content"):
            if key in values:
                values[key] = json.dumps(values[key])
        if "usage" in values and isinstance(values["usage"], Usage):
            values["usage"] = json.dumps(values["usage"].__dict__)
        cols = ", ".join(f"{k}=?" for k in values)
        with self._connect() as db:
            if not _owned(db, run_id, self.owner):
                return
            db.execute(f"UPDATE turns SET {cols} WHERE run_id=? AND idx=?", (*values.values(), run_id, idx))
            db.execute("UPDATE runs SET updated_at=? WHERE id=?", (time.time(), run_id))

    def turn(self, run_id: str, idx: int) -> Turn | None:
        """One turn of a readable run."""
        found = self._turns("t.run_id=? AND t.idx=?", run_id, idx)
        return found[0] if found else None

    def turns(self, run_id: str) -> list[Turn]:
        """A readable run's turns in order."""
        return self._turns("t.run_id=?", run_id)

    def _turns(self, where: str, *args: Any) -> list[Turn]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT t.* FROM turns t JOIN runs r ON r.id=t.run_id WHERE {where} AND {_READABLE} ORDER BY t.idx",
                (*args, self.owner),
            ).fetchall()
        return [_turn(r) for r in rows]

    # --- items ---------------------------------------------------------------------------

    def put_item(self, run_id: str, turn_idx: int, seq: int, item: Item) -> None:
        """Insert or update one transcript item of one of this owner's runs."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO items SELECT ?,?,?,?,?,? WHERE EXISTS (SELECT 1 FROM runs WHERE id=? AND owner=?) "
                "ON CONFLICT(run_id, turn_idx, seq) "
                "DO UPDATE SET kind=excluded.kind, data=excluded.data, updated_at=excluded.updated_at",
                (run_id, turn_idx, seq, item.kind, json.dumps(item.to_dict()), time.time(), run_id, self.owner),
            )

    def items(self, run_id: str, turn_idx: int | None = None) -> list[StoredItem]:
        """Transcript items of a readable run (or of one of its turns), in order."""
        where, args = (
            ("i.run_id=?", (run_id,)) if turn_idx is None else ("i.run_id=? AND i.turn_idx=?", (run_id, turn_idx))
        )
        with self._connect() as db:
            rows = db.execute(
                "SELECT i.turn_idx, i.seq, i.data FROM items i JOIN runs r ON r.id=i.run_id "
                f"WHERE {where} AND {_READABLE} ORDER BY i.turn_idx, i.seq",
                (*args, self.owner),
            ).fetchall()
        return [StoredItem(r["turn_idx"], r["seq"], item_from_dict(json.loads(r["data"]))) for r in rows]

    def next_seq(self, run_id: str, turn_idx: int) -> int:
        """The first free item position in a turn of one of this owner's runs."""
        with self._connect() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(i.seq), -1) + 1 FROM items i JOIN runs r ON r.id=i.run_id "
                "WHERE i.run_id=? AND i.turn_idx=? AND r.owner=?",
                (run_id, turn_idx, self.owner),
            ).fetchone()
        return int(row[0])

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
        with self._connect() as db:
            if not _owned(db, run_id, self.owner):
                return
            db.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, turn_idx, file_id, filename, mime_type, size_bytes, path, "
                "created_at, tool_use_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, turn_idx, file_id, filename, mime_type, size_bytes, path, time.time(), tool_use_id),
            )

    def artifacts(self, flt: ArtifactFilter = ArtifactFilter()) -> tuple[list[Artifact], int]:
        """This owner's artifacts matching a filter, newest first, and how many match in all."""
        where, args = ["r.owner=?"], [self.owner]
        if flt.run_id:
            where.append("a.run_id=?")
            args.append(flt.run_id)
        if flt.kind == "image":
            where.append("a.mime_type LIKE 'image/%'")
        elif flt.kind == "other":
            where.append("a.mime_type NOT LIKE 'image/%'")
        if flt.since is not None:
            where.append("a.created_at>=?")
            args.append(flt.since)
        if flt.until is not None:
            where.append("a.created_at<?")
            args.append(flt.until)
        for word in flt.words.split():
            where.append("(t.question LIKE ? OR r.title LIKE ? OR a.filename LIKE ?)")
            args += [f"%{word}%"] * 3
        sql = (
            "FROM artifacts a JOIN runs r ON r.id=a.run_id "
            "LEFT JOIN turns t ON t.run_id=a.run_id AND t.idx=a.turn_idx WHERE " + " AND ".join(where)
        )
        with self._connect() as db:
            total = int(db.execute(f"SELECT COUNT(*) {sql}", args).fetchone()[0])
            rows = db.execute(
                f"SELECT a.*, COALESCE(t.question, r.title) AS question {sql} "
                "ORDER BY a.created_at DESC, a.id DESC LIMIT ? OFFSET ?",
                (*args, flt.limit, flt.offset),
            ).fetchall()
        return [Artifact(**dict(r)) for r in rows], total

    def artifact(self, artifact_id: int) -> Artifact | None:
        """One of this owner's artifacts by its row id."""
        with self._connect() as db:
            row = db.execute(
                "SELECT a.*, COALESCE(t.question, r.title) AS question FROM artifacts a JOIN runs r ON r.id=a.run_id "
                "LEFT JOIN turns t ON t.run_id=a.run_id AND t.idx=a.turn_idx WHERE a.id=? AND r.owner=?",
                (artifact_id, self.owner),
            ).fetchone()
        return Artifact(**dict(row)) if row else None

    def delete_artifact(self, artifact_id: int) -> None:
        """Forget one of this owner's artifact rows."""
        with self._connect() as db:
            db.execute(
                "DELETE FROM artifacts WHERE id=? AND run_id IN (SELECT id FROM runs WHERE owner=?)",
                (artifact_id, self.owner),
            )

    # --- users (sign-in) -----------------------------------------------------------------

    def touch_user(self, email: str, name: str) -> None:
        """Remember that this owner signed in, with the email and name to show for them."""
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO users (owner, email, name, first_seen, last_seen) VALUES (?,?,?,?,?) "
                "ON CONFLICT(owner) DO UPDATE SET email=excluded.email, name=excluded.name, "
                "last_seen=excluded.last_seen",
                (self.owner, email, name, now, now),
            )

    def user(self) -> UserRecord | None:
        """This owner's user record, if they have signed in (or an admin gave them a budget)."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM users WHERE owner=?", (self.owner,)).fetchone()
        return UserRecord(**dict(row)) if row else None

    def display_name(self, owner: str) -> str:
        """How to name the owner of a run shared with this owner: their email (or name) as they signed in."""
        with self._connect() as db:
            row = db.execute("SELECT email, name FROM users WHERE owner=?", (owner,)).fetchone()
        return (row["email"] or row["name"]) if row and (row["email"] or row["name"]) else "another user"

    def users(self) -> list[UserRecord]:
        """Everyone who has signed in, by email (admins only)."""
        self._require_admin()
        with self._connect() as db:
            rows = db.execute("SELECT * FROM users ORDER BY email, owner").fetchall()
        return [UserRecord(**dict(r)) for r in rows]

    def set_monthly_budget(self, owner: str, budget_usd: float) -> None:
        """An owner's monthly budget in USD, 0 for none (admins only)."""
        self._require_admin()
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO users (owner, first_seen, last_seen, monthly_budget_usd) VALUES (?,?,?,?) "
                "ON CONFLICT(owner) DO UPDATE SET monthly_budget_usd=excluded.monthly_budget_usd",
                (owner, now, now, max(float(budget_usd), 0.0)),
            )

    def turn_usage_since(self, since: float, every_owner: bool = False) -> list[TurnUsage]:
        """Turns started at or after `since`, of this owner (or, for an admin, of everyone)."""
        if every_owner:
            self._require_admin()
        scope, args = ("1=1", ()) if every_owner else ("r.owner=?", (self.owner,))
        with self._connect() as db:
            rows = db.execute(
                "SELECT r.owner AS run_owner, r.model AS run_model, t.* FROM turns t JOIN runs r ON r.id=t.run_id "
                f"WHERE t.started_at>=? AND {scope} ORDER BY t.started_at",
                (since, *args),
            ).fetchall()
        return [TurnUsage(r["run_owner"], r["run_id"], r["run_model"], _turn(r)) for r in rows]

    def claim_local_data(self) -> int:
        """Give every file and run made before sign-in was switched on to this admin; returns how many runs."""
        self._require_admin()
        if self.owner == LOCAL_OWNER:
            return 0
        with self._connect() as db:
            db.execute("UPDATE files SET owner=? WHERE owner=?", (self.owner, LOCAL_OWNER))
            claimed = db.execute("UPDATE runs SET owner=? WHERE owner=?", (self.owner, LOCAL_OWNER)).rowcount
        return claimed


# a run row `r` this owner (the query's second parameter) may read
_READABLE = "(r.owner=? OR r.shared=1)"


def _owned(db: sqlite3.Connection, run_id: str, owner: str) -> bool:
    return db.execute("SELECT 1 FROM runs WHERE id=? AND owner=?", (run_id, owner)).fetchone() is not None


def _turn(row: sqlite3.Row) -> Turn:
    data = {k: row[k] for k in Turn.__dataclass_fields__}
    data["user_content"] = json.loads(data["user_content"])
    data["assistant_content"] = json.loads(data["assistant_content"])
    data["usage"] = Usage(**json.loads(data["usage"] or "{}"))
    return Turn(**data)


def _run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["file_ids"] = json.loads(data["file_ids"])
    data["demo"] = bool(data["demo"])
    data["shared"] = bool(data["shared"])
    return Run(**data)
