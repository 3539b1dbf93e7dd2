"""The database: one schema (SQLAlchemy Core tables) for SQLite and PostgreSQL, engines, and Alembic upgrades.

`ANALYST_DATABASE_URL` unset means a SQLite file in the data directory; `postgresql+psycopg://…` for teams.
A SQLite file made by the hand-written schema of earlier versions (1–4) is brought to version 4 with its own
statements, stamped as the Alembic baseline and upgraded from there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lib.identity import LOCAL_OWNER

LEGACY_VERSION = 4  # the last version of the hand-written schema; Alembic's baseline is the same tables
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_NAME = "analyst.sqlite3"  # the embedded database's file in the data directory
PING_IDLE_SECONDS = 5.0  # a pooled PostgreSQL connection idle this long is pinged before use

metadata = sa.MetaData()


def _text(name: str, default: str = "", **kw: Any) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=False, server_default=sa.text(f"'{default}'"), **kw)


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default=sa.text("0"))


files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("mime_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    _text("sha256"),
    _text("kind"),
    _text("local_path"),
    sa.Column("created_at", sa.Float, nullable=False),
    _flag("remote_missing"),
    _text("notes"),
    _text("owner", LOCAL_OWNER),
    _text("profile"),  # a table's profile as JSON (lib.storage.records.TableProfile), "" for other files
    sa.Index("files_owner", "owner", "created_at"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("tool_version", sa.Text, nullable=False),
    _text("container_id"),
    _text("container_expires_at"),
    _text("file_ids", "[]"),
    _text("error"),
    _flag("demo"),
    sa.Column("budget_usd", sa.Float, nullable=False, server_default=sa.text("0")),
    _text("owner", LOCAL_OWNER),
    _flag("shared"),
    _text("replay_of"),  # the run whose questions this one asked again on other files
    _text("name"),  # the owner's name for the run; empty: its title (the first question, or the replay's mark)
    _text("sources", "[]"),  # names of the SQL sources picked for the run (never their URLs)
    sa.Index("runs_updated", "updated_at"),
    sa.Index("runs_owner", "owner", "updated_at"),
    sa.Index("runs_replay_of", "replay_of"),
    sa.Index("runs_owner_created", "owner", "created_at"),  # runs found by the day they were started
)

turns = sa.Table(
    "turns",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    _text("user_content", "[]"),
    _text("assistant_content", "[]"),
    _text("usage", "{}"),
    _text("stop_reason"),
    _text("container_id"),
    sa.Column("requests", sa.Integer, nullable=False, server_default=sa.text("0")),
    _text("error"),
    # the work queue: what a worker needs to run the turn, who runs it, until when, and whether to stop
    _text("request", "{}"),
    _text("worker"),
    sa.Column("lease_until", sa.Float, nullable=False, server_default=sa.text("0")),
    _flag("stop_requested"),
    sa.Column("trace", sa.Text),  # the answer's numbers traced (tracing.records.TurnTrace as JSON); NULL: not traced
    sa.Index("turns_queue", "status", "started_at"),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("turn_idx", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("items_watermark", "run_id", "turn_idx", "updated_at"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("turn_idx", sa.Integer, nullable=False),
    sa.Column("file_id", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("mime_type", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    _text("tool_use_id"),
    sa.UniqueConstraint("run_id", "file_id", name="artifacts_run_file"),
    sa.Index("artifacts_created", "created_at"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    _text("email"),
    _text("name"),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
    sa.Column("monthly_budget_usd", sa.Float, nullable=False, server_default=sa.text("0")),
)

workers = sa.Table(  # one row per run worker process, beaten while it serves; removed when it exits
    "workers",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    _text("host"),
    sa.Column("pid", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("capacity", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_beat", sa.Float, nullable=False),
    _flag("draining"),
)

queue_owners = sa.Table(  # the fair queue: when each owner with queued work last had a turn claimed
    "queue_owners",
    metadata,
    sa.Column("owner", sa.Text, primary_key=True),
    sa.Column("last_claim_at", sa.Float, nullable=False, server_default=sa.text("0")),
)


# --- the schema before Alembic: kept to bring old SQLite files to the baseline ----------------------

LEGACY_SCHEMA = """
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

# version -> statements that take the hand-written schema from the version before to this one
LEGACY_MIGRATIONS: dict[int, list[str]] = {
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


class NewerDatabaseError(RuntimeError):
    """The database was written by a newer version of this app."""


# --- engines -------------------------------------------------------------------------------------

_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()


def sqlite_url(data_dir: Path) -> str:
    """The embedded default: a SQLite file in the data directory."""
    return f"sqlite:///{Path(data_dir) / SQLITE_NAME}"


def engine_for(url: str) -> Engine:
    """One engine per database URL and process (each keeps a pool), upgraded to the newest schema once."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _make_engine(url)
            _engines[url] = engine
        if url not in _upgraded:
            upgrade(engine)
            _upgraded.add(url)
    return engine


def forget(url: str) -> None:
    """Drop a cached engine, so the next use opens (and checks) the database again."""
    with _lock:
        engine = _engines.pop(url, None)
        _upgraded.discard(url)
    if engine is not None:
        engine.dispose()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun below, as BEGIN IMMEDIATE
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # one writer at a time, decided when the transaction starts rather than half way through it
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = sa.create_engine(url, pool_size=5, max_overflow=20)

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        # A connection that sat idle in the pool may have been dropped (a restart, a proxy's timeout): ping it
        # before use, and let the pool take another if it is gone. One in steady use is not pinged, which would
        # double the statements of every short read.
        if time.monotonic() - record.info.get("used", 0.0) > PING_IDLE_SECONDS:
            try:
                with dbapi_conn.cursor() as cursor:
                    cursor.execute("SELECT 1")
                dbapi_conn.rollback()  # leave no transaction open: the connection may be set to autocommit next
            except Exception as exc:  # whatever broke it, this connection is not to be used
                raise sa.exc.DisconnectionError() from exc
        record.info["used"] = time.monotonic()

    @sa.event.listens_for(engine, "checkin")
    def _note_use(_dbapi_conn: Any, record: Any) -> None:
        record.info["used"] = time.monotonic()

    return engine


# --- migrations ----------------------------------------------------------------------------------


def alembic_config(engine: Engine | None = None) -> Any:
    """An Alembic configuration for this app's migrations, bound to `engine` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head() -> str:
    """The newest Alembic revision of this app."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


MIGRATION_LOCK = 0x616E616C79737401  # a PostgreSQL advisory lock key of this app's own


@contextmanager
def _migrating(engine: Engine) -> Iterator[None]:
    """One process at a time migrates a shared database: workers and replicas may start together, and a second
    CREATE TABLE of Alembic's own table would fail."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as lock:
        lock.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            yield
        finally:
            lock.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            lock.commit()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema: legacy SQLite files first to v4 and the baseline, then Alembic."""
    with _migrating(engine):
        _upgrade(engine)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        legacy = _legacy_version(conn) if current is None else None
        conn.rollback()
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise NewerDatabaseError(f"The database {engine.url!r} was written by a newer version of this app.")
    if legacy is not None:
        _upgrade_legacy(engine, legacy)
        command.stamp(cfg, "0001_baseline")
    command.upgrade(cfg, "head")


def _legacy_version(conn: Connection) -> int | None:
    """The hand-written schema's version of an old SQLite file, or None for a database without it."""
    if conn.dialect.name != "sqlite" or not sa.inspect(conn).has_table("meta"):
        return None
    row = conn.exec_driver_sql("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 1


def _upgrade_legacy(engine: Engine, version: int) -> None:
    if version > LEGACY_VERSION:
        raise NewerDatabaseError(f"The database {engine.url!r} was written by a newer version of this app.")
    with engine.begin() as conn:
        for statement in filter(str.strip, LEGACY_SCHEMA.split(";")):
            conn.exec_driver_sql(statement)
        for target in range(version + 1, LEGACY_VERSION + 1):
            for statement in LEGACY_MIGRATIONS[target]:
                conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"UPDATE meta SET value='{LEGACY_VERSION}' WHERE key='schema_version'")
