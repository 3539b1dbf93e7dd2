"""Numbers as answers write them: 1,234.5 · −3 · .5 · 12.5% · $4,500 · 2e3, never the digits inside a name."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# thousands separators: comma, narrow and no-break spaces; a plain space is not one, so "in 2024 120 units"
# stays two numbers
SEPARATORS = ",\u202f\u00a0"
NUMBER = re.compile(
    r"(?<![\w.])(?P<sign>[-+−])?(?P<cur>[$€£])?(?=\.?\d)"
    rf"(?P<int>\d{{1,3}}(?:[{SEPARATORS}]\d{{3}})+|\d*)(?P<frac>\.\d+)?(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?P<pct>\s?%)?(?!\w|\.\d)"
)


@dataclass(frozen=True)
class Number:
    """A number written in a text: where, as written, and its value (12.5% is 12.5)."""

    start: int
    end: int
    text: str
    value: float


def find(text: str) -> Iterator[Number]:
    """Every number written in a text, in order (a date's parts are numbers, never negative ones)."""
    for m in NUMBER.finditer(text):
        yield Number(m.start(), m.end(), m.group(0), value_of(m))


def value_of(m: re.Match[str]) -> float:
    """The value of a match of NUMBER (or of a pattern that includes it)."""
    digits = re.sub(f"[{SEPARATORS}]", "", m["int"] or "0") + (m["frac"] or "")
    value = float(digits) * (10 ** int(m["exp"]) if m["exp"] else 1)
    return -value if m["sign"] in ("-", "−") else value
