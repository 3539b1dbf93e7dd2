"""The SQL calls Claude's code makes (programmatic tool calling): each one a Query item and a `tool_result`, cut
to what the next request can still carry.

Every earlier result of the turn stays in the conversation, and the API takes at most 32 MB per request, so a
result gets the room the request has left (beside its source's own size limit), and says so when it is cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from lib.sources import QueryError, QueryHandle, QueryResult, fitted, tool_result_text
from lib.transcript import Query, code_caller
from lib.turn.request import SQL_TOOL

# (source, SQL, handle) -> the result, run as the run's user (lib.sources checks they may use the source)
QueryRunner = Callable[[str, str, QueryHandle], QueryResult]

MAX_REQUEST_BYTES = 32_000_000  # the Messages API's limit on one request
REQUEST_MARGIN = 500_000  # headers, and JSON escaping the estimate may miss
MIN_RESULT_BYTES = 2_000  # below this, a result is refused outright rather than cut to nothing
ESCAPE_TRIES = 4


def tool_calls(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `tool_use` blocks of a response's content (calls the app must answer), in order."""
    return [b for b in content if b.get("type") == "tool_use"]


def request_bytes(params: dict[str, Any]) -> int:
    """About how many bytes a request with these parameters sends."""
    return len(json.dumps(params, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def call_input(call: dict[str, Any]) -> tuple[str, str]:
    """The source and SQL a call asks for ('' where not given as text)."""
    given = call.get("input")
    given = given if isinstance(given, dict) else {}
    source, sql = given.get("source"), given.get("query")
    return (source if isinstance(source, str) else "", sql if isinstance(sql, str) else "")


def refused(call: dict[str, Any], sources: list[str]) -> QueryResult | None:
    """The error a call gets before any query runs (not the sql tool, no text, a source the run did not pick)."""
    name, text = call_input(call)
    if call.get("name") != SQL_TOOL or not code_caller(call):
        return _error(name, text, "tool", f"There is no tool `{call.get('name')}` here; call `sql` from code.")
    if not name or not text:
        return _error(name, text, "sql", 'Call it as `await sql(source="NAME", query="SELECT …")`, both text.')
    if name not in sources:
        listed = ", ".join(f"`{s}`" for s in sources) or "none"
        return _error(name, text, "not_allowed", f"`{name}` is not one of this run's sources ({listed}).")
    return None


def unavailable(call: dict[str, Any]) -> QueryResult:
    """The error of a call when this turn cannot run queries at all."""
    return _error(*call_input(call), "connection", "This app cannot run SQL queries for this run.")


def too_full(call: dict[str, Any], room: int) -> QueryResult:
    """The error of a call whose result would not fit in the next request at all."""
    return _error(
        *call_input(call),
        "too_large",
        f"The results already sent in this answer leave only {max(room, 0):,} bytes of the 32 MB a request may "
        "carry, too little for more rows.",
        "Print what you need from the results you have, or aggregate in SQL and ask in a follow-up question.",
    )


def answer(call: dict[str, Any], result: QueryResult, room: int) -> tuple[dict[str, Any], QueryResult]:
    """The `tool_result` block for a call, at most `room` bytes as the request sends it, and the result as sent
    (cut to fit). The result's JSON travels as a string inside the request's JSON, where its quotes are
    escaped, so it is cut again by what the escaping added."""
    budget = room
    for _ in range(ESCAPE_TRIES):
        sent = fitted(result, budget)
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.get("id", ""), "content": ""}
        block["content"] = tool_result_text(sent, budget)
        if sent.error is not None:
            block["is_error"] = True
        size = request_bytes(block)
        if size <= room:
            break
        budget = int(budget * room / size) - 64  # escaping grows with what is escaped
    return block, sent


def running(call: dict[str, Any]) -> Query:
    """The Query item of a call while it runs."""
    source, sql = call_input(call)
    return Query(
        tool_use_id=str(call.get("id", "")),
        code_tool_use_id=code_caller(call),
        source=source,
        sql=sql,
        running=True,
    )


def finished(call: dict[str, Any], sent: QueryResult) -> Query:
    """The Query item of a call once its result (as sent to the code) is known."""
    item = running(call)
    item.running = False
    item.row_count = sent.row_count
    item.columns = [c.name for c in sent.columns]
    item.seconds = round(sent.elapsed_seconds, 3)
    item.truncated = sent.truncated
    item.note = sent.truncated_reason
    if sent.error is not None:
        item.error_kind, item.error, item.hint = sent.error.kind, sent.error.message, sent.error.hint
    return item


def _error(source: str, sql: str, kind: str, message: str, hint: str = "") -> QueryResult:
    return QueryResult(source, sql, error=QueryError(kind, message, hint))
