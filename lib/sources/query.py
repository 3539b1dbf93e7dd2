"""Run one SQL query on a source: read-only, timed out, under a row and a byte cap, stoppable from another thread.

Every outcome is a QueryResult; a refused, failed, timed-out or stopped query is one with an `error`, which the
analysis code reads and can try again after."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from lib.sources import statement
from lib.sources.config import MB, Limits, SourceConfig, scrub
from lib.sources.engines import engine_for
from lib.sources.values import SQLITE_TYPES, json_ready, kind_of

log = logging.getLogger(__name__)
BATCH = 2_000
MAX_MESSAGE_CHARS = 2_000
CANCEL_WAIT_SECONDS = 5.0
CANCEL_TRIES = 20
CANCEL_RETRY_SECONDS = 0.25


@dataclass(frozen=True)
class QueryColumn:
    """A result column: its name, the engine's type name, and what it holds (lib.sources.values.KINDS)."""

    name: str
    type: str
    kind: str


@dataclass(frozen=True)
class QueryError:
    """Why a query gave no rows: kind is read_only, timeout, cancelled, sql, connection or not_allowed."""

    kind: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class QueryResult:
    """One query's outcome; rows hold JSON-ready values (lib.sources.values.json_ready)."""

    source: str
    query: str
    columns: tuple[QueryColumn, ...] = ()
    rows: list[list[Any]] = field(default_factory=list, repr=False)
    truncated: bool = False
    truncated_reason: str = ""
    elapsed_seconds: float = 0.0
    result_bytes: int = 0  # size of the rows in the tool result's JSON
    error: QueryError | None = None

    @property
    def ok(self) -> bool:
        """Whether the query ran (its rows may still be cut: see truncated)."""
        return self.error is None

    @property
    def row_count(self) -> int:
        """Rows returned (after any cut)."""
        return len(self.rows)

    def summary(self) -> dict[str, Any]:
        """What to show and keep of it without the rows: the SQL, rows returned, time taken, cut, error."""
        out: dict[str, Any] = {
            "source": self.source,
            "query": self.query,
            "row_count": self.row_count,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }
        if self.truncated:
            out["truncated"] = True
            out["note"] = self.truncated_reason
        if self.error is not None:
            out["error"] = {"kind": self.error.kind, "message": self.error.message, "hint": self.error.hint}
        return out


class QueryHandle:
    """Stops a running query from another thread (Stop, or the timeout timer); one handle serves one query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel_fn: Callable[[], None] | None = None
        self._finished = threading.Event()
        self.reason = ""  # "cancelled" or "timeout" once stopped

    @property
    def stopped(self) -> bool:
        """Whether cancel() or the timeout came."""
        return bool(self.reason)

    @property
    def running(self) -> bool:
        """Whether the query holds a connection now (connected and not finished)."""
        return self._cancel_fn is not None

    def cancel(self) -> None:
        """Stop the query, or stop it before it starts; returns at once."""
        self._stop("cancelled")

    def _stop(self, reason: str) -> None:
        with self._lock:
            if self.reason:
                return
            self.reason = reason
        threading.Thread(target=self._keep_cancelling, name="source-query-cancel", daemon=True).start()

    def _keep_cancelling(self) -> None:
        """Cancel until the query lets go of its connection: a cancel that lands before the statement starts is lost.

        The lock is held while cancelling, so the connection cannot go back to the pool (and serve another query)
        in the middle of it."""
        for _ in range(CANCEL_TRIES):
            with self._lock:
                if self._cancel_fn is None:
                    return
                try:
                    self._cancel_fn()
                except Exception:  # noqa: BLE001 - the query may end as it is cancelled; the reason still counts
                    log.debug("cancelling a query failed")
            if self._finished.wait(CANCEL_RETRY_SECONDS):
                return

    @contextmanager
    def _attached(self, cancel_fn: Callable[[], None]) -> Iterator[None]:
        with self._lock:
            self._cancel_fn = cancel_fn
            self._finished.clear()
        try:
            yield
        finally:
            with self._lock:
                self._cancel_fn = None
            self._finished.set()


class _Stopped(Exception):
    """Raised between batches once the handle is stopped."""


def run_query(
    source: SourceConfig, sql: str, *, handle: QueryHandle | None = None, limits: Limits | None = None
) -> QueryResult:
    """Run one reading statement on the source and return its rows, cut to the limits; never raises for the query."""
    limits = limits or source.limits
    handle = handle or QueryHandle()
    started = time.monotonic()

    def failed(kind: str, message: str, hint: str = "") -> QueryResult:
        error = QueryError(kind, scrub(message, source)[:MAX_MESSAGE_CHARS], hint)
        return QueryResult(source.name, sql, elapsed_seconds=time.monotonic() - started, error=error)

    refusal = statement.refusal(sql)
    if refusal:
        return failed("read_only", refusal, READ_HINT)
    if handle.stopped:
        return failed(*_stop_error(handle.reason, limits))
    try:
        raw = engine_for(source).raw_connection()
    except Exception as exc:  # noqa: BLE001 - no connection problem may escape to the code's caller
        return failed("connection", f"Could not connect to `{source.name}`: {_driver_message(exc)}", CONNECT_HINT)
    runner = _RUNNERS.get(source.dialect, _Generic)(raw, limits, handle)
    timer = threading.Timer(limits.timeout_seconds, handle._stop, args=("timeout",))
    timer.daemon = True
    try:
        with handle._attached(runner.cancel):
            if handle.stopped:
                raise _Stopped
            timer.start()
            refused = runner.refusal(sql)
            if refused:
                return failed("read_only", refused, READ_HINT)
            if handle.stopped:
                raise _Stopped
            names, types = runner.execute(sql)
            columns, rows, nbytes, reason = _collect(runner, names, types, limits, handle)
    except Exception as exc:  # noqa: BLE001 - every database error becomes a readable error value
        return failed(*_classify(exc, handle, runner, limits))
    finally:
        timer.cancel()
        runner.close()
    return QueryResult(
        source.name,
        sql,
        columns=columns,
        rows=rows,
        truncated=bool(reason),
        truncated_reason=reason,
        elapsed_seconds=time.monotonic() - started,
        result_bytes=nbytes,
    )


READ_HINT = "Read with SELECT (filter, join and aggregate in SQL) and do anything else in Python."
CONNECT_HINT = "The database may be down or unreachable from the app; try again later or tell an admin."


def _stop_error(reason: str, limits: Limits) -> tuple[str, str, str]:
    if reason == "timeout":
        return (
            "timeout",
            f"The query ran past the {limits.timeout_seconds:g} s limit and was stopped.",
            "Filter with WHERE, aggregate with GROUP BY or add LIMIT, then try again.",
        )
    return ("cancelled", "The query was stopped before it finished.", "Ask again if the rows are still needed.")


def _classify(exc: BaseException, handle: QueryHandle, runner: _Runner, limits: Limits) -> tuple[str, str, str]:
    if handle.stopped:
        return _stop_error(handle.reason, limits)
    message = _driver_message(exc)
    if runner.lost():
        return ("connection", f"The connection to the database was lost: {message}", CONNECT_HINT)
    if runner.is_timeout(exc, message):
        return _stop_error("timeout", limits)
    if "one statement at a time" in message or "multiple commands" in message:
        return ("sql", "Send one statement per query; this one has several.", "Run each statement as its own query.")
    if runner.is_write_refusal(exc, message):
        return ("read_only", f"This source is read-only; the database refused the query: {message}", READ_HINT)
    return ("sql", message, "Check the table and column names against the schema, fix the SQL and try again.")


def _driver_message(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's statement echo and links."""
    inner = exc.orig if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None else exc
    text = str(inner).strip() or type(inner).__name__
    return text


def _collect(
    runner: _Runner, names: list[str], types: list[str], limits: Limits, handle: QueryHandle
) -> tuple[tuple[QueryColumn, ...], list[list[Any]], int, str]:
    """Fetch in batches up to the row cap and the byte budget; say why when rows were left."""
    kinds: list[str | None] = [None] * len(names)
    rows: list[list[Any]] = []
    budget = limits.max_bytes - _envelope_bytes(names, types)
    nbytes, reason = 0, ""
    while not reason:
        if handle.stopped:
            raise _Stopped
        batch = runner.fetch(min(BATCH, limits.max_rows - len(rows) + 1))
        if not batch:
            break
        for raw_row in batch:
            if len(rows) >= limits.max_rows:
                reason = (
                    f"Cut at the row cap: the first {limits.max_rows:,} rows; more rows exist. "
                    "Aggregate or filter in SQL to get everything that matters."
                )
                break
            row = [json_ready(v) for v in raw_row]
            size = len(_dumps(row).encode("utf-8")) + 1  # and its comma
            if nbytes + size > budget:
                reason = (
                    f"Cut at the byte cap: the first {len(rows):,} rows fill the {limits.max_bytes / MB:g} MB limit; "
                    "more rows exist. Select fewer columns, aggregate or filter in SQL."
                )
                break
            for i, value in enumerate(raw_row):
                if kinds[i] is None and value is not None:
                    kinds[i] = kind_of(value)
            rows.append(row)
            nbytes += size
    columns = tuple(
        QueryColumn(name, type_name or SQLITE_TYPES.get(kind or "", ""), kind or "other")
        for name, type_name, kind in zip(names, types, kinds, strict=True)
    )
    return columns, rows, nbytes, reason


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# the longest note a result can carry, kept free in the byte budget
_NOTE_ROOM = 400


def _envelope_bytes(names: list[str], types: list[str]) -> int:
    skeleton = QueryResult(
        "x" * 40, "", columns=tuple(QueryColumn(n, t, "timestamp") for n, t in zip(names, types, strict=True))
    )
    return len(tool_result_text(skeleton).encode("utf-8")) + _NOTE_ROOM


def tool_result_text(result: QueryResult, max_bytes: int | None = None) -> str:
    """The result as the string handed back to the code: compact JSON with columns and rows, or the error.

    Never over max_bytes: rows are dropped from the end (and the result says so) where they would not fit."""
    if result.error is not None:
        error = {"kind": result.error.kind, "message": result.error.message, "hint": result.error.hint}
        return _dumps({"source": result.source, "error": error, "elapsed_seconds": round(result.elapsed_seconds, 3)})
    text = _result_json(result)
    if max_bytes is None or len(text.encode("utf-8")) <= max_bytes:
        return text
    return _result_json(_fit(result, max_bytes))


def fitted(result: QueryResult, max_bytes: int) -> QueryResult:
    """The result as `tool_result_text(result, max_bytes)` sends it: with rows dropped from the end (and saying
    so) where they would not fit."""
    if result.error is not None or len(_result_json(result).encode("utf-8")) <= max_bytes:
        return result
    return _fit(result, max_bytes)


def _result_json(result: QueryResult) -> str:
    body: dict[str, Any] = {
        "source": result.source,
        "columns": [{"name": c.name, "type": c.type, "kind": c.kind} for c in result.columns],
        "rows": result.rows,
        "row_count": result.row_count,
        "truncated": result.truncated,
    }
    if result.truncated:
        body["note"] = result.truncated_reason
    body["elapsed_seconds"] = round(result.elapsed_seconds, 3)
    return _dumps(body)


def _fit(result: QueryResult, max_bytes: int) -> QueryResult:
    """The longest prefix of the rows whose JSON fits in max_bytes, marked as cut."""
    reason = f"Cut to fit {max_bytes:,} bytes; more rows exist. Select fewer columns, aggregate or filter in SQL."
    empty = replace(result, rows=[], truncated=True, truncated_reason=reason)
    room = max_bytes - len(_result_json(empty).encode("utf-8"))
    kept, used = 0, 0
    for row in result.rows:
        size = len(_dumps(row).encode("utf-8")) + 1
        if used + size > room:
            break
        kept, used = kept + 1, used + size
    return replace(empty, rows=result.rows[:kept], result_bytes=used)


class _Runner:
    """How one engine runs a query on a pooled connection: read-only, timed out, cancellable."""

    def __init__(self, raw: Any, limits: Limits, handle: QueryHandle) -> None:
        self.raw = raw  # SQLAlchemy's pooled DBAPI connection
        self.conn = raw.driver_connection
        self.limits = limits
        self.handle = handle
        self.cursor: Any = None

    def refusal(self, sql: str) -> str | None:
        """An engine-specific reason to refuse before running."""
        return None

    def execute(self, sql: str) -> tuple[list[str], list[str]]:
        """Run it; the column names and the engine's type names."""
        self.cursor = self.raw.cursor()
        self.cursor.execute(sql)
        return self._described()

    def _described(self) -> tuple[list[str], list[str]]:
        description = self.cursor.description or []
        return [str(d[0]) for d in description], [self._type_name(d[1]) for d in description]

    def _type_name(self, type_code: Any) -> str:
        return type_code if isinstance(type_code, str) else ""

    def fetch(self, n: int) -> list[Any]:
        """The next rows, at most n."""
        return self.cursor.fetchmany(n)

    def cancel(self) -> None:
        """Stop what runs now (called from another thread)."""
        cancel = getattr(self.conn, "cancel", None)
        if callable(cancel):
            cancel()

    def lost(self) -> bool:
        """Whether the connection itself broke (the server went away), rather than the query failing."""
        return getattr(self.conn, "broken", False) is True or getattr(self.conn, "closed", False) is True

    def is_timeout(self, exc: BaseException, message: str) -> bool:
        """Whether the engine stopped it for its own time limit."""
        return False

    def is_write_refusal(self, exc: BaseException, message: str) -> bool:
        """Whether the engine refused it as a write."""
        return "read-only" in message.lower() or "read only" in message.lower()

    def close(self) -> None:
        """Roll back and give the connection back to the pool (or drop it if it is broken)."""
        try:
            if self.cursor is not None:
                self.cursor.close()
        except Exception:  # noqa: BLE001 - a cursor of a failed transaction may refuse to close
            pass
        try:
            self.raw.rollback()
            self.raw.close()
        except Exception:  # noqa: BLE001 - a connection that cannot roll back is not given back to the pool
            self.raw.invalidate()


class _Generic(_Runner):
    """Any other SQLAlchemy database: rolled back afterwards; read-only only as far as its account is."""


class _Postgres(_Runner):
    """A server-side cursor (DECLARE … CURSOR FOR accepts only SELECT and VALUES) in a read-only transaction."""

    def execute(self, sql: str) -> tuple[list[str], list[str]]:
        with self.conn.cursor() as setup:
            setup.execute("SET TRANSACTION READ ONLY")
            millis = str(max(1, int(self.limits.timeout_seconds * 1000)))
            setup.execute("SELECT set_config('statement_timeout', %s, true)", (millis,))
        self.cursor = self.conn.cursor(name="analyst_source_query")
        self.cursor.execute(sql)  # no parameters: % signs in the SQL stay as written
        return self._described()

    def _type_name(self, type_code: Any) -> str:
        info = self.conn.adapters.types.get(type_code)
        if info is None:
            return str(type_code)
        return f"{info.name}[]" if type_code == getattr(info, "array_oid", None) else info.name

    def cancel(self) -> None:
        self.conn.cancel_safe(timeout=CANCEL_WAIT_SECONDS)

    def is_timeout(self, exc: BaseException, message: str) -> bool:
        return "statement timeout" in message

    def is_write_refusal(self, exc: BaseException, message: str) -> bool:
        sqlstate = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
        return sqlstate == "25006" or "data-modifying" in message


class _Sqlite(_Runner):
    """Opened mode=ro with an authorizer; the progress handler stops it at the deadline or on cancel."""

    def execute(self, sql: str) -> tuple[list[str], list[str]]:
        self.conn.set_progress_handler(lambda: 1 if self.handle.stopped else 0, 1_000)
        return super().execute(sql)

    def cancel(self) -> None:
        self.conn.interrupt()

    def is_write_refusal(self, exc: BaseException, message: str) -> bool:
        return message in ("not authorized", "attempt to write a readonly database") or "readonly" in message

    def close(self) -> None:
        self.conn.set_progress_handler(None, 0)
        super().close()


class _DuckDB(_Runner):
    """Opened read_only without file access or settings; DuckDB's own parser checks it is one SELECT."""

    def refusal(self, sql: str) -> str | None:
        parsed = self.conn.extract_statements(sql)
        if len(parsed) != 1:
            return f"This source is read-only and runs one SELECT per query; this query has {len(parsed)} statements."
        kind = parsed[0].type.name
        if kind != "SELECT":
            return f"This source is read-only and the query is a {kind} statement: only SELECT runs here."
        return None

    def execute(self, sql: str) -> tuple[list[str], list[str]]:
        self.cursor = self.conn.cursor()
        self.cursor.execute(sql)
        return self._described()

    def _type_name(self, type_code: Any) -> str:
        return str(type_code)

    def cancel(self) -> None:
        self.conn.interrupt()

    def is_write_refusal(self, exc: BaseException, message: str) -> bool:
        return "read-only" in message or "disabled by configuration" in message or "has been locked" in message


_RUNNERS: dict[str, type[_Runner]] = {"postgresql": _Postgres, "sqlite": _Sqlite, "duckdb": _DuckDB}
