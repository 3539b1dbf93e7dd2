"""What the request's files note already says about a table (its profile, made when the file was uploaded), so
the demo analyst need not spend a code cell finding it out: the table's shape, its columns and their roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

NOTE_START = "Files attached to the container for this question:"
_PROFILE = re.compile(r"Profile of `(?P<name>[^`]+)`[^:]*: (?P<rows>[\d,]+) rows × (?P<columns>[\d,]+) columns")
_COLUMN = re.compile(r"^- `(?P<name>[^`]+)` (?P<type>\S+): (?P<facts>.*)$", re.MULTILINE)
_MISSING = re.compile(r"^([\d,]+) missing$")
_RANGE = re.compile(r"^(.+) to (.+)$")
_DISTINCT = re.compile(r"^~?([\d,]+) distinct$")

# what a column's name says it is (the container's cells use the same patterns: lib.emulator.analyst.cells)
ID_NAME = r"(^|[_\s])(id|key|uuid|index|idx)$|^(id|unnamed)([_\s:]|$)"  # identifies rather than measures
ADDITIVE = r"unit|qty|quantity|count|revenue|sales|amount|total|cost|profit|spend|orders|volume|visits"  # adds up
PER_ITEM = r"price|rate|ratio|pct|percent|share|avg|mean|median|per_|temperature|humidity|pressure"  # averaged
NUMBER_TYPES = ("int", "uint", "float", "double", "decimal")
DATE_TYPES = ("date", "datetime", "timestamp")


@dataclass(frozen=True)
class KnownColumn:
    """One column as the note gives it."""

    name: str
    type: str
    missing: int
    low: str | None = None
    high: str | None = None
    distinct: int | None = None


@dataclass(frozen=True)
class KnownTable:
    """A table's shape and its columns, as the note gives them."""

    rows: int
    columns: int
    listed: tuple[KnownColumn, ...]

    @property
    def missing(self) -> dict[str, int]:
        """Missing values per column."""
        return {c.name: c.missing for c in self.listed}


def split(text: str) -> tuple[str, str]:
    """(the question, the files note) of a user message's text."""
    question, found, note = text.partition(NOTE_START)
    return question.strip(), found + note


def known_table(note: str, name: str) -> KnownTable | None:
    """The profile the note gives of the file `name`, if it gives one with every column listed."""
    for found in _PROFILE.finditer(note):
        if found.group("name") != name:
            continue
        block = note[found.end() :].split("\nProfile of `", 1)[0]
        listed = tuple(_column(c.group("name"), c.group("type"), c.group("facts")) for c in _COLUMN.finditer(block))
        columns = int(found.group("columns").replace(",", ""))
        if len(listed) != columns:  # a wide table's note lists only its first columns
            return None
        return KnownTable(int(found.group("rows").replace(",", "")), columns, listed)
    return None


def _column(name: str, type_: str, facts: str) -> KnownColumn:
    values: dict[str, Any] = {}
    for part in facts.split(", "):
        if m := _MISSING.match(part):
            values["missing"] = int(m.group(1).replace(",", ""))
        elif m := _DISTINCT.match(part):
            values["distinct"] = int(m.group(1).replace(",", ""))
        elif m := _RANGE.match(part):
            values["low"], values["high"] = m.group(1), m.group(2)
    return KnownColumn(name, type_, values.pop("missing", 0), **values)


def column_roles(table: KnownTable) -> dict[str, Any]:
    """The roles the container's `column_roles` finds, from the profile alone: the date column, identifiers,
    categories (with their number of values), measures with how each adds up, and the yes/no (0/1) measures."""
    date = next((c.name for c in table.listed if c.type.startswith(DATE_TYPES)), None)
    found: dict[str, Any] = {"date": date, "ids": [], "categories": {}, "measures": {}, "binary": []}
    for c in table.listed:
        present = table.rows - c.missing
        if c.name == date or present <= 0:
            continue
        numeric = c.type.startswith(NUMBER_TYPES)
        unique = c.distinct is not None and c.distinct >= 0.95 * present
        id_named = re.search(ID_NAME, c.name, re.IGNORECASE) is not None
        if unique and (id_named or (not numeric and present > 20)):
            found["ids"].append(c.name)
        elif numeric and not id_named:
            found["measures"][c.name] = how_to_add_up(c.name)
            if c.type.startswith(("int", "uint")) and (c.low, c.high) in (("0", "1"), ("0", "0"), ("1", "1")):
                found["binary"].append(c.name)
        elif c.distinct is not None and c.distinct <= 50:
            found["categories"][c.name] = c.distinct
    return found


def how_to_add_up(column: str) -> str:
    """'sum' for a measure whose rows add up to a total, else 'mean'."""
    additive = re.search(ADDITIVE, column, re.IGNORECASE) and not re.search(PER_ITEM, column, re.IGNORECASE)
    return "sum" if additive else "mean"
