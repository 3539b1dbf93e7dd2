"""Finding runs: what a search for runs says (words, and the days the runs were started), and the query for it.

Each word must appear, in any case, in the run's name, one of its questions or the name of one of its input
files. A word that reads as a date narrows the runs to those started then: `2026-12-03`, `2026-12`, `2026`,
`today`, `yesterday`, or a range `2026-12-01..2026-12-15` (either end may be left out) or `2026-12-01 to
2026-12-15`. Dates are the days of this machine's clock, as the app shows them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from lib.storage.db import files, runs, turns

DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")
FIRST_YEAR, LAST_YEAR = 1970, 2999  # a four-digit number outside these is a word, not a year
RANGE_WORDS = ("to", "until")
ESCAPE = "\\"


@dataclass(frozen=True)
class RunQuery:
    """A search for runs: words that must each be found, and when the runs were started (epoch seconds)."""

    words: tuple[str, ...] = ()
    since: float | None = None  # started at or after
    until: float | None = None  # started before


def parse(text: str, today: date | None = None) -> RunQuery:
    """What a search typed by a user asks for (`today` for `today` and `yesterday`; default: this machine's)."""
    today = today or date.today()
    tokens = text.split()
    words: list[str] = []
    periods: list[tuple[date | None, date | None]] = []  # [first day, day after the last)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if i + 2 < len(tokens) and tokens[i + 1].lower() in RANGE_WORDS:
            start, end = _period(token, today), _period(tokens[i + 2], today)
            if start and end:
                periods.append((start[0], end[1]))
                i += 3
                continue
        found = _range(token, today) if ".." in token else _period(token, today)
        if found:
            periods.append(found)
        else:
            words.append(token)
        i += 1
    starts = [p[0] for p in periods if p[0] is not None]
    ends = [p[1] for p in periods if p[1] is not None]
    return RunQuery(
        tuple(words),
        _timestamp(max(starts)) if starts else None,  # several dates narrow the search: all must hold
        _timestamp(min(ends)) if ends else None,
    )


def _range(token: str, today: date) -> tuple[date | None, date | None] | None:
    """`A..B`, `A..` or `..B` as [first day of A, day after B), or None when it is no range of dates."""
    left, _, right = token.partition("..")
    start, end = _period(left, today) if left else None, _period(right, today) if right else None
    if (left and start is None) or (right and end is None) or not (left or right):
        return None
    if start and end and end[0] < start[0]:  # written the other way round
        start, end = end, start
    return (start[0] if start else None, end[1] if end else None)


def _period(token: str, today: date) -> tuple[date, date] | None:
    """A date as the days it covers, [first, day after the last), or None when the token is no date."""
    lowered = token.lower()
    if lowered == "today":
        return today, today + timedelta(days=1)
    if lowered == "yesterday":
        return today - timedelta(days=1), today
    match = DATE.fullmatch(token)
    if match is None:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        if month is None:
            return date(year, 1, 1), date(year + 1, 1, 1)
        if day is None:
            first = date(year, month, 1)
            return first, (first + timedelta(days=32)).replace(day=1)
        first = date(year, month, day)
    except ValueError:  # 2026-13, 2026-02-30: not a date, so a word
        return None
    return first, first + timedelta(days=1)


def _timestamp(day: date) -> float:
    return datetime.combine(day, time.min).timestamp()


def _literal(text: str) -> str:
    """Text for LIKE that matches only itself."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def shown_name() -> Any:
    """A run's name as shown: the owner's name for it, else its title."""
    return sa.func.coalesce(sa.func.nullif(runs.c.name, ""), runs.c.title)


def named(name: str) -> Any:
    """A where clause for runs called `name`, in any case (ASCII letters only on SQLite)."""
    return shown_name().ilike(_literal(name), escape=ESCAPE)


def conditions(query: RunQuery, owner: str, dialect: str) -> list[Any]:
    """Where clauses on the runs table for `owner`'s runs that match the search."""
    where: list[Any] = [runs.c.owner == owner]  # with created_at: the runs_owner_created index
    if query.since is not None:
        where.append(runs.c.created_at >= query.since)
    if query.until is not None:
        where.append(runs.c.created_at < query.until)
    # a run keeps its input files' ids as a JSON list of strings: a file is the run's when its quoted id is in it
    position = sa.func.strpos if dialect == "postgresql" else sa.func.instr
    quoted_id = sa.literal('"', sa.Text) + files.c.id + sa.literal('"', sa.Text)
    for word in query.words:
        pattern = f"%{_literal(word)}%"
        asked = sa.exists().where(turns.c.run_id == runs.c.id, turns.c.question.ilike(pattern, escape=ESCAPE))
        attached = sa.exists().where(
            files.c.owner == owner,
            files.c.filename.ilike(pattern, escape=ESCAPE),
            position(runs.c.file_ids, quoted_id) > 0,
        )
        where.append(sa.or_(shown_name().ilike(pattern, escape=ESCAPE), asked, attached))
    return where
