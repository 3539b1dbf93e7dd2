"""The first check on a query: it must start as a statement that reads. The engines enforce the rest."""

from __future__ import annotations

import re

READING = ("select", "with", "values", "table", "from")  # `from`: DuckDB's FROM-first SELECT
MAX_QUERY_CHARS = 100_000
WORD = re.compile(r"[A-Za-z_]+")


def first_word(sql: str) -> str:
    """The statement's first keyword, lowercased, after whitespace, comments (nested too) and opening brackets."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace() or sql[i] == "(":
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _comment_end(sql, i)
        else:
            match = WORD.match(sql, i)
            return match.group(0).lower() if match else sql[i]
    return ""


def _comment_end(sql: str, i: int) -> int:
    depth = 0
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return i


def refusal(sql: str) -> str | None:
    """Why a query may not run (empty, too long, or not a reading statement), or None."""
    if len(sql) > MAX_QUERY_CHARS:
        return f"The query is {len(sql):,} characters long; at most {MAX_QUERY_CHARS:,} are accepted."
    word = first_word(sql)
    if not word:
        return "The query is empty."
    if word not in READING:
        return (
            f"This source is read-only and the query starts with `{word.upper()}`: only one statement that reads "
            "(SELECT, WITH … SELECT, VALUES or TABLE) runs here."
        )
    return None
