"""What a turn sends, built from plain values: the request, the user's message, the tool and the history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lib.cost import DEFAULT_PRICES, PriceTable, container_minutes_for, estimate
from lib.storage.records import ColumnProfile, TableProfile
from lib.transcript import Usage, code_caller

SYSTEM_PROMPT = (
    "You are a careful data analyst. The user's files are available in the code execution container. "
    "Work in small steps: load the data, check it, then answer. Print the figures you quote, so every number "
    "in your answer comes from code you ran. Save every chart as a PNG file (dpi 120 or more) and any table the "
    "user may want as CSV, in the output directory of the container, and mention the file names. Beside each PNG "
    "chart, save the same chart as a Vega-Lite v5 specification with its data inline (`data.values`, no URLs), "
    "named like the PNG with `.vl.json` instead of `.png`, so the user can explore it interactively. "
    "End with a short, plain-language answer to the question."
)


SQL_TOOL = "sql"
SQL_TOOL_DESCRIPTION = (
    "Run one read-only SQL query (a single SELECT, WITH … SELECT or VALUES) on one of the SQL sources listed in the "
    "system prompt, on the app's side, and get its rows. Callable only from your code, as an async function: "
    '`result = await sql(source="NAME", query="SELECT …")` (several at once with asyncio.gather). The result is '
    'a dict: `{"columns": [{"name", "type", "kind"}], "rows": [[…], …], "row_count", "truncated"}` plus a '
    '`"note"` when the rows were cut at a limit, or `{"error": {"kind", "message", "hint"}}` when the query was '
    "refused, failed or ran out of time; then fix the SQL and call again. Filter and aggregate in SQL: results "
    "are limited in rows and size."
)
SOURCES_PROMPT = (
    "Live SQL sources are available through the `sql` tool, which only your code can call, as an async "
    'function in the code execution container: `result = await sql(source="NAME", query="SELECT …")`. Rows '
    "stay in the container: print only what you need, and quote figures from what you printed. The sources, "
    "with their tables, columns, types and row counts as each database's catalog has them:"
)


@dataclass
class TurnRequest:
    """Everything one turn needs, as plain values."""

    model: str
    tool_version: str
    max_tokens: int
    history: list[dict[str, Any]]
    user_content: list[dict[str, Any]]
    container_id: str = ""
    run_file_ids: list[str] = field(default_factory=list)
    system: str = SYSTEM_PROMPT
    max_continuations: int = 8
    budget_usd: float = 0.0  # the run's budget; 0: no limit
    spent_usd: float = 0.0  # what the run's earlier turns cost
    prices: PriceTable = DEFAULT_PRICES
    sources: list[str] = field(default_factory=list)  # the SQL sources its code may query, by name

    def spent_with(self, usage: Usage) -> float:
        """The run's estimated spend with this turn's `usage` so far."""
        return self.spent_usd + estimate(usage, self.model, self.prices, container_minutes_for(1)).total_usd


class AttachedFile(Protocol):
    """What the files note says about one file (a file of the catalogue has all of it, and its table's `profile`)."""

    @property
    def filename(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def size_bytes(self) -> int: ...

    @property
    def notes(self) -> str: ...


NOTE_COLUMNS = 60  # columns a file note lists one by one (the rest are counted)


def user_content(question: str, file_ids: list[str], files_note: str = "") -> list[dict[str, Any]]:
    """The user message of a turn: the question, a note naming the files, then the files for the container."""
    note = [{"type": "text", "text": files_note}] if files_note else []
    return [{"type": "text", "text": question}] + note + [{"type": "container_upload", "file_id": f} for f in file_ids]


def files_note(files: Sequence[AttachedFile]) -> str:
    """Tells Claude which files it gets (so it need not search the container), each table's profile (so it need
    not spend a first cell finding out what is in it), data-quality notes and the analyst's notes."""
    if not files:
        return ""
    described = ", ".join(f"`{f.filename}` ({f.kind.upper()}, {f.size_bytes:,} bytes)" for f in files)
    lines = [f"Files attached to the container for this question: {described}."]
    for f in files:
        profile: TableProfile | None = getattr(f, "profile", None)  # a catalogue file's, kept since its upload
        if profile is not None:
            lines += profile_lines(f.filename, profile)
    lines += [f"Notes from the analyst about `{f.filename}`: {f.notes}" for f in files if f.notes]
    return "\n".join(lines)


def profile_lines(filename: str, profile: TableProfile) -> list[str]:
    """A table's profile as the files note gives it: shape, layout, one line per column, data-quality notes."""
    layout = ", ".join(x for x in (_delimiter(profile.delimiter), profile.encoding) if x)
    sheets = f', first sheet "{profile.sheets[0]}" of {len(profile.sheets)}' if profile.sheets else ""
    lines = [
        f"Profile of `{filename}` (read whole when it was uploaded; no need to load it just to learn this): "
        f"{profile.rows:,} rows × {len(profile.columns):,} columns"
        + (f" ({layout}{sheets})" if layout or sheets else "")
        + ". Columns:"
    ]
    lines += [f"- {_column_line(c, profile.rows)}" for c in profile.columns[:NOTE_COLUMNS]]
    if len(profile.columns) > NOTE_COLUMNS:
        lines.append(f"- … and {len(profile.columns) - NOTE_COLUMNS:,} more columns")
    lines += [f"Data-quality note on `{filename}`: {n}" for n in profile.notes]
    return lines


def _delimiter(delimiter: str | None) -> str:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return f"{names.get(delimiter, repr(delimiter))}-delimited" if delimiter else ""


def _column_line(c: ColumnProfile, rows: int) -> str:
    """'`units` int64: 0 missing, 10 to 285, mean 101.3, 49 distinct'."""
    parts = [f"{round(c.missing * rows):,} missing"]
    if c.min is not None and c.max is not None:
        parts.append(f"{_value(c.min)} to {_value(c.max)}")
    if c.mean is not None:
        parts.append(f"mean {_value(c.mean)}")
    if c.distinct is not None:
        parts.append(f"{'' if c.distinct_exact else '~'}{c.distinct:,} distinct")
    return f"`{c.name}` {c.type}: " + ", ".join(parts)


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)[:40]


def tool_spec(version: str) -> dict[str, str]:
    """The code execution tool declaration."""
    return {"type": version, "name": "code_execution"}


def sql_tool(version: str) -> dict[str, Any]:
    """The client tool `sql(source, query)`, callable only from code run by the code execution tool `version`."""
    return {
        "name": SQL_TOOL,
        "description": SQL_TOOL_DESCRIPTION,
        "input_schema": {
            "type": "object",
            "properties": {
                "source": {"type": "string", "description": "The source's name, as the system prompt lists it."},
                "query": {"type": "string", "description": "One read-only SQL statement."},
            },
            "required": ["source", "query"],
        },
        "allowed_callers": [version],
    }


def sources_system(schemas: Sequence[str], system: str = SYSTEM_PROMPT) -> str:
    """The system prompt with the picked sources' schemas (each as lib.sources.prompt_text gives it)."""
    if not schemas:
        return system
    return "\n\n".join([system, SOURCES_PROMPT, *schemas])


def build_params(req: TurnRequest, messages: list[dict[str, Any]], container_id: str) -> dict[str, Any]:
    """Keyword arguments for messages.stream(): the `sql` tool is declared only when the run has sources."""
    tools: list[dict[str, Any]] = [tool_spec(req.tool_version)]
    if req.sources:
        tools.append(sql_tool(req.tool_version))
    params: dict[str, Any] = {
        "model": req.model,
        "max_tokens": req.max_tokens,
        "system": req.system,
        "tools": tools,
        "messages": messages,
    }
    if container_id:
        params["container"] = container_id
    return params


def safe_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistant content as history: without a tool call that has no result (unsendable without its container),
    and without the calls code made of client tools, which its cell consumed (their results were never part of
    the assistant's content, and a later question needs only the cell and what it printed)."""
    answered = {b.get("tool_use_id") for b in content if "tool_use_id" in b}
    out = [b for b in content if not (b.get("type") == "server_tool_use" and b.get("id") not in answered)]
    out = [b for b in out if not (b.get("type") == "tool_use" and code_caller(b))]
    return [b for b in out if not (b.get("type") == "text" and not b.get("text"))]


def history_messages(turns: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Earlier (user content, assistant content) pairs as alternating messages the API accepts."""
    messages: list[dict[str, Any]] = []
    for user, assistant in turns:
        messages.append({"role": "user", "content": user})
        content = safe_content(assistant)
        if not content:
            content = [{"type": "text", "text": "(This turn was interrupted before Claude answered.)"}]
        messages.append({"role": "assistant", "content": content})
    return messages


def attached_ids(messages: list[dict[str, Any]]) -> set[str]:
    """File ids already put into the container by earlier messages."""
    return {
        b["file_id"]
        for m in messages
        if m["role"] == "user"
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "container_upload"
    }
