"""Numbers as answers write them: 1,234.5 · −3 · .5 · 12.5% · $4,500 · 2e3, never the digits inside a name.

Answers are written by a model, so reading them is bounded: a number with more digits or a larger exponent
than `lib.limits` allows is not read as a number (`2e9999999` is a word), and reading never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lib.limits import LIMITS

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


_SEPARATOR = re.compile(f"[{SEPARATORS}]")
_EXPONENT_DIGITS = len(str(LIMITS.number_exponent))


def find(text: str) -> Iterator[Number]:
    """Every number written in a text, in order (a date's parts are numbers, never negative ones)."""
    for m in NUMBER.finditer(text):
        value = value_of(m)
        if value is not None:
            yield Number(m.start(), m.end(), m.group(0), value)


def value_of(m: re.Match[str]) -> float | None:
    """The value of a match of NUMBER (or of a pattern that includes it); None when it is not read as a number
    (more digits or a larger exponent than the limits, or too large for a float)."""
    whole = _SEPARATOR.sub("", m["int"] or "")
    fraction = (m["frac"] or "")[1:]
    exponent = m["exp"] or ""
    magnitude = exponent.lstrip("+-").lstrip("0")
    if len(whole) + len(fraction) > LIMITS.number_digits or len(magnitude) > _EXPONENT_DIGITS:
        return None
    if int(magnitude or "0") > LIMITS.number_exponent:
        return None
    sign = "-" if exponent.startswith("-") else ""
    # float() of a bounded decimal string is exact to the nearest double and never raises
    value = float(f"{whole or '0'}.{fraction or '0'}e{sign}{magnitude or '0'}")
    if not math.isfinite(value):
        return None
    return -value if m["sign"] in ("-", "−") else value
