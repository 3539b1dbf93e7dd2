"""What a source holds: its tables, their columns and types, row counts as the catalog has them, and previews."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from lib.errors import AppError
from lib.sources.config import MB, Limits, SourceConfig, SourceView, scrub
from lib.sources.engines import engine_for
from lib.sources.query import QueryHandle, QueryResult, run_query

MAX_TABLES = 200
MAX_COLUMNS = 200
COUNT_UP_TO = 100_000  # SQLite without statistics: rows are counted up to this many
PREVIEW_ROWS = 20
PREVIEW_LIMITS = Limits(timeout_seconds=10.0, max_rows=100, max_bytes=1 * MB)
TTL_SECONDS = 60.0
ERROR_TTL_SECONDS = 10.0
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast", "sys", "mysql", "performance_schema")


@dataclass(frozen=True)
class ColumnInfo:
    """A column: name, type as the database declares it, and whether it may be null."""

    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class TableInfo:
    """A table or view, with at most MAX_COLUMNS columns and its row count as the catalog has it."""

    name: str
    schema: str | None  # None: the default schema
    kind: str  # "table" or "view"
    columns: tuple[ColumnInfo, ...]
    columns_left_out: int = 0
    row_count: int | None = None
    row_count_basis: str = ""  # "estimate", "exact", "at least", or "" when unknown

    @property
    def qualified(self) -> str:
        """The name to write in SQL (schema-qualified outside the default schema)."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def rows_text(self) -> str:
        """The row count in words: "about 576 rows", "over 100,000 rows", "rows unknown"."""
        if self.row_count is None:
            return "rows unknown"
        prefix = {"estimate": "about ", "at least": "over "}.get(self.row_count_basis, "")
        return f"{prefix}{self.row_count:,} row{'s' if self.row_count != 1 else ''}"


@dataclass(frozen=True)
class Catalog:
    """A source's public view and its tables (at most MAX_TABLES); an error when it could not be read."""

    source: SourceView
    tables: tuple[TableInfo, ...] = ()
    tables_left_out: int = 0
    warnings: tuple[str, ...] = ()
    error: AppError | None = None
    read_at: float = 0.0

    def table(self, qualified: str) -> TableInfo | None:
        """A table by the name written in SQL."""
        return next((t for t in self.tables if t.qualified == qualified), None)


_cache: dict[tuple[str, sa.URL], Catalog] = {}
_cache_lock = threading.Lock()


def catalog_for(source: SourceConfig, *, refresh: bool = False) -> Catalog:
    """The source's catalog, read at most once a minute (an unreachable source is tried again after 10 s)."""
    key = (source.name, source.url)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None and not refresh:
        ttl = ERROR_TTL_SECONDS if found.error else TTL_SECONDS
        if time.time() - found.read_at < ttl:
            return found
    fresh = read_catalog(source)
    with _cache_lock:
        _cache[key] = fresh
    return fresh


def read_catalog(source: SourceConfig) -> Catalog:
    """Read the catalog now; a failure is an error value naming the source, never an exception."""
    try:
        with engine_for(source).connect() as conn:
            tables, left_out = _tables(conn, source.dialect)
            counts = _row_counts(conn, source.dialect, tables)
            warnings = _warnings(conn, source.dialect)
            conn.rollback()
    except Exception as exc:  # noqa: BLE001 - an unreachable or broken source is shown as such on the page
        inner = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
        error = AppError(
            "Source unavailable",
            scrub(f"`{source.name}` could not be read: {str(inner).strip() or type(inner).__name__}", source),
            "The database may be down or unreachable from the app; try again later or tell an admin.",
            retryable=True,
            code="source_unavailable",
        )
        return Catalog(source.view, error=error, read_at=time.time())
    with_counts = tuple(_counted(t, counts.get((t.schema, t.name))) for t in tables)
    return Catalog(source.view, with_counts, left_out, warnings, read_at=time.time())


def _counted(table: TableInfo, count: tuple[int, str] | None) -> TableInfo:
    if count is None:
        return table
    return TableInfo(table.name, table.schema, table.kind, table.columns, table.columns_left_out, *count)


def _schemas(insp: Any, dialect: str) -> list[str | None]:
    """The default schema first (as None), then, on server databases, the other non-system schemas."""
    if dialect in ("sqlite", "duckdb"):
        return [None]
    default = insp.default_schema_name
    others = [
        s
        for s in insp.get_schema_names()
        if s != default and s not in SYSTEM_SCHEMAS and not s.startswith(("pg_", "crdb_"))
    ]
    return [None, *sorted(others)]


def _tables(conn: sa.Connection, dialect: str) -> tuple[list[TableInfo], int]:
    insp = sa.inspect(conn)
    names: list[tuple[str | None, str, str]] = []
    for schema in _schemas(insp, dialect):
        names += [(schema, n, "table") for n in sorted(insp.get_table_names(schema=schema))]
        names += [(schema, n, "view") for n in sorted(insp.get_view_names(schema=schema))]
    tables = []
    for schema, name, kind in names[:MAX_TABLES]:
        columns = insp.get_columns(name, schema=schema)
        tables.append(
            TableInfo(
                name,
                schema,
                kind,
                tuple(
                    ColumnInfo(c["name"], _type(c["type"], conn), bool(c.get("nullable", True)))
                    for c in columns[:MAX_COLUMNS]
                ),
                max(0, len(columns) - MAX_COLUMNS),
            )
        )
    return tables, max(0, len(names) - MAX_TABLES)


def _type(column_type: Any, conn: sa.Connection) -> str:
    try:
        return str(column_type.compile(dialect=conn.dialect))
    except Exception:  # noqa: BLE001 - a type SQLAlchemy cannot render is still shown by its class name
        return type(column_type).__name__.upper()


def _row_counts(
    conn: sa.Connection, dialect: str, tables: list[TableInfo]
) -> dict[tuple[str | None, str], tuple[int, str]]:
    """(schema, table) -> (rows, basis), from the catalog's statistics where the engine keeps them."""
    if dialect == "postgresql":
        return _postgres_counts(conn)
    if dialect == "duckdb":
        rows = conn.exec_driver_sql(
            "SELECT table_name, estimated_size FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = current_schema()"
        )
        return {(None, name): (int(size), "estimate") for name, size in rows if size is not None}
    if dialect == "sqlite":
        return _sqlite_counts(conn, [t for t in tables if t.kind == "table"])
    return {}


def _postgres_counts(conn: sa.Connection) -> dict[tuple[str | None, str], tuple[int, str]]:
    default = conn.exec_driver_sql("SELECT current_schema()").scalar()
    rows = conn.exec_driver_sql(
        "SELECT n.nspname, c.relname, c.reltuples, s.n_live_tup FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
        "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    )
    counts = {}
    for schema, name, reltuples, live in rows:
        key = (None if schema == default else schema, name)
        if reltuples is not None and reltuples >= 0:  # -1: never vacuumed or analysed
            counts[key] = (int(reltuples), "estimate")
        elif live is not None:
            counts[key] = (int(live), "estimate")
    return counts


def _sqlite_counts(conn: sa.Connection, tables: list[TableInfo]) -> dict[tuple[str | None, str], tuple[int, str]]:
    counts: dict[tuple[str | None, str], tuple[int, str]] = {}
    has_stats = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).first()
    if has_stats:
        for name, rows in conn.exec_driver_sql("SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl"):
            counts[(None, name)] = (int(rows), "estimate")
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        if (None, table.name) in counts:
            continue
        found = conn.exec_driver_sql(
            f"SELECT count(*) FROM (SELECT 1 FROM {quote(table.name)} LIMIT {COUNT_UP_TO + 1})"
        ).scalar()
        found = int(found or 0)
        counts[(None, table.name)] = (COUNT_UP_TO, "at least") if found > COUNT_UP_TO else (found, "exact")
    return counts


def _warnings(conn: sa.Connection, dialect: str) -> tuple[str, ...]:
    if (
        dialect == "postgresql"
        and conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
    ):
        return (
            "Connected as a superuser: a read-only transaction does not stop every function with side effects. "
            "Give this source a role that may only read.",
        )
    return ()


def preview(
    source: SourceConfig, table: TableInfo, rows: int = PREVIEW_ROWS, handle: QueryHandle | None = None
) -> QueryResult:
    """The first rows of a table from the catalog, under the preview's own small limits."""
    dialect = engine_for(source).dialect
    quote = dialect.identifier_preparer.quote
    name = f"{quote(table.schema)}.{quote(table.name)}" if table.schema else quote(table.name)
    limit = max(1, min(rows, PREVIEW_LIMITS.max_rows))
    result = run_query(source, f"SELECT * FROM {name} LIMIT {limit}", handle=handle, limits=PREVIEW_LIMITS)
    declared = {c.name: c.type for c in table.columns}  # SQLite's results carry no types; its catalog does
    return replace(result, columns=tuple(replace(c, type=declared.get(c.name) or c.type) for c in result.columns))


def prompt_text(cat: Catalog, max_columns: int = 60) -> str:
    """The source's schema for the system prompt: tables, columns, types and row counts as the catalog has them."""
    src = cat.source
    lines = [f"Source `{src.name}` ({src.dialect})" + (f": {src.description}" if src.description else "")]
    if cat.error is not None:
        return lines[0] + f"\n  (its schema could not be read: {cat.error.message})"
    for t in cat.tables:
        shown = ", ".join(f"{c.name} {c.type}" for c in t.columns[:max_columns])
        more = max(0, len(t.columns) - max_columns) + t.columns_left_out
        extra = f", … and {more} more columns" if more > 0 else ""
        lines.append(f"- {t.qualified} ({t.kind}, {t.rows_text}): {shown}{extra}")
    if cat.tables_left_out:
        lines.append(f"- … and {cat.tables_left_out} more tables not listed")
    return "\n".join(lines)
