"""Persistence in SQLite (WAL, versioned schema): files catalogue, runs, turns, transcript items, artifacts."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.transcript import Item, Usage, item_from_dict

SCHEMA_VERSION = 3
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


@dataclass
class Store:
    """SQLite store in the data directory; safe to share between threads."""

    data_dir: Path

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
        """Insert or replace a catalogue entry."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO files (id, filename, mime_type, size_bytes, sha256, kind, local_path, "
                "created_at, remote_missing, notes) VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                ),
            )

    def set_file_notes(self, file_id: str, notes: str) -> None:
        """Keep the analyst's notes about a file (column meanings, units, rules); sent with every analysis."""
        with self._connect() as db:
            db.execute("UPDATE files SET notes=? WHERE id=?", (notes.strip(), file_id))

    def files(self) -> list[FileRecord]:
        """The catalogue, newest first."""
        return self._files("1=1")

    def file(self, file_id: str) -> FileRecord | None:
        """One catalogue entry."""
        return next(iter(self._files("id=?", file_id)), None)

    def file_by_hash(self, sha256: str) -> FileRecord | None:
        """An already-uploaded file with the same content, if any."""
        return next(iter(self._files("sha256=? AND remote_missing=0", sha256)), None)

    def _files(self, where: str, *args: Any) -> list[FileRecord]:
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM files WHERE {where} ORDER BY created_at DESC", args).fetchall()
        return [FileRecord(**{**dict(r), "remote_missing": bool(r["remote_missing"])}) for r in rows]

    def remove_file(self, file_id: str) -> None:
        """Drop a catalogue entry."""
        with self._connect() as db:
            db.execute("DELETE FROM files WHERE id=?", (file_id,))

    def mark_remote(self, present_ids: set[str]) -> None:
        """Flag catalogue entries the remote list no longer has."""
        with self._connect() as db:
            for row in db.execute("SELECT id FROM files").fetchall():
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
        """A new run, queued."""
        now = time.time()
        run_id = uuid.uuid4().hex
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id,title,created_at,updated_at,status,model,tool_version,file_ids,demo,budget_usd) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
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
                ),
            )
        run = self.run(run_id)
        assert run is not None
        return run

    def run(self, run_id: str) -> Run | None:
        """One run, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return _run(row) if row else None

    def runs(self, limit: int = 50) -> list[Run]:
        """Most recently active runs first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall()
        return [_run(r) for r in rows]

    def update_run(self, run_id: str, **values: Any) -> None:
        """Change some columns of a run and touch it."""
        if "file_ids" in values:
            values["file_ids"] = json.dumps(values["file_ids"])
        values["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE runs SET {cols} WHERE id=?", (*values.values(), run_id))

    def delete_run(self, run_id: str) -> None:
        """Remove a run with its turns, items and artifact rows (files on disk are the caller's)."""
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id=?", (run_id,))

    def mark_interrupted(self, keep: set[str] = frozenset(), only: set[str] | None = None) -> list[str]:
        """Active runs (all, or `only` these) that no thread works on become 'interrupted'; returns their ids."""
        with self._connect() as db:
            rows = db.execute(f"SELECT id FROM runs WHERE status IN {ACTIVE}").fetchall()
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
        """Append a turn to a run; returns its index."""
        with self._connect() as db:
            row = db.execute("SELECT COALESCE(MAX(idx), -1) + 1 FROM turns WHERE run_id=?", (run_id,)).fetchone()
            idx = int(row[0])
            db.execute(
                "INSERT INTO turns (run_id, idx, question, status, started_at, user_content) VALUES (?,?,?,?,?,?)",
                (run_id, idx, question, "running", time.time(), json.dumps(user_content)),
            )
            db.execute("UPDATE runs SET status='running', error='', updated_at=? WHERE id=?", (time.time(), run_id))
        return idx

    def update_turn(self, run_id: str, idx: int, **values: Any) -> None:
        """Change some columns of a turn."""
        for key in ("user_content", "assistant_content"):
            if key in values:
                values[key] = json.dumps(values[key])
        if "usage" in values and isinstance(values["usage"], Usage):
            values["usage"] = json.dumps(values["usage"].__dict__)
        cols = ", ".join(f"{k}=?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE turns SET {cols} WHERE run_id=? AND idx=?", (*values.values(), run_id, idx))
            db.execute("UPDATE runs SET updated_at=? WHERE id=?", (time.time(), run_id))

    def turn(self, run_id: str, idx: int) -> Turn | None:
        """One turn of a run."""
        found = self._turns("run_id=? AND idx=?", run_id, idx)
        return found[0] if found else None

    def turns(self, run_id: str) -> list[Turn]:
        """A run's turns in order."""
        return self._turns("run_id=?", run_id)

    def _turns(self, where: str, *args: Any) -> list[Turn]:
        with self._connect() as db:
            rows = db.execute(f"SELECT * FROM turns WHERE {where} ORDER BY idx", args).fetchall()
        return [
            Turn(
                **{
                    **dict(r),
                    "user_content": json.loads(r["user_content"]),
                    "assistant_content": json.loads(r["assistant_content"]),
                    "usage": Usage(**json.loads(r["usage"] or "{}")),
                }
            )
            for r in rows
        ]

    # --- items ---------------------------------------------------------------------------

    def put_item(self, run_id: str, turn_idx: int, seq: int, item: Item) -> None:
        """Insert or update one transcript item."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO items VALUES (?,?,?,?,?,?) ON CONFLICT(run_id, turn_idx, seq) "
                "DO UPDATE SET kind=excluded.kind, data=excluded.data, updated_at=excluded.updated_at",
                (run_id, turn_idx, seq, item.kind, json.dumps(item.to_dict()), time.time()),
            )

    def items(self, run_id: str, turn_idx: int | None = None) -> list[StoredItem]:
        """Transcript items of a run (or of one of its turns), in order."""
        where, args = ("run_id=?", (run_id,)) if turn_idx is None else ("run_id=? AND turn_idx=?", (run_id, turn_idx))
        with self._connect() as db:
            rows = db.execute(
                f"SELECT turn_idx, seq, data FROM items WHERE {where} ORDER BY turn_idx, seq", args
            ).fetchall()
        return [StoredItem(r["turn_idx"], r["seq"], item_from_dict(json.loads(r["data"]))) for r in rows]

    def next_seq(self, run_id: str, turn_idx: int) -> int:
        """The first free item position in a turn."""
        with self._connect() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM items WHERE run_id=? AND turn_idx=?", (run_id, turn_idx)
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
        """Record a downloaded generated file."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, turn_idx, file_id, filename, mime_type, size_bytes, path, "
                "created_at, tool_use_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, turn_idx, file_id, filename, mime_type, size_bytes, path, time.time(), tool_use_id),
            )

    def artifacts(self, flt: ArtifactFilter = ArtifactFilter()) -> tuple[list[Artifact], int]:
        """Artifacts matching a filter, newest first, and how many match in all."""
        where, args = ["1=1"], []
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
        """One artifact by its row id."""
        with self._connect() as db:
            row = db.execute(
                "SELECT a.*, COALESCE(t.question, r.title) AS question FROM artifacts a JOIN runs r ON r.id=a.run_id "
                "LEFT JOIN turns t ON t.run_id=a.run_id AND t.idx=a.turn_idx WHERE a.id=?",
                (artifact_id,),
            ).fetchone()
        return Artifact(**dict(row)) if row else None

    def delete_artifact(self, artifact_id: int) -> None:
        """Forget one artifact row."""
        with self._connect() as db:
            db.execute("DELETE FROM artifacts WHERE id=?", (artifact_id,))


def _run(row: sqlite3.Row) -> Run:
    data = dict(row)
    data["file_ids"] = json.loads(data["file_ids"])
    data["demo"] = bool(data["demo"])
    return Run(**data)
