"""Data-quality notes on a table, in plain words for the analyst and for Claude: a doubtful or mixed encoding (with
the lines), a damaged workbook, columns that identify rows rather than measure them, and extreme values."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from lib.files.encodings import Survey
from lib.storage.records import ColumnProfile

# A column named like an identifier: order_id, customerID, sku, invoice_no, zip code…
_ID_NAME = re.compile(
    r"(?i:(?:^|[_\s.-])(?:id|key|code|no|nr|number|uuid|guid|sku|ref)$)|(?<=[a-z])(?:Id|ID|Key|No|Nr|Code)$"
)
FAR = 5.0  # an extreme value lies this many interquartile ranges beyond the quartiles…
Z = 5.0  # … and this many standard deviations from the mean
MIN_ROWS = 20  # fewer values than this say nothing about identifiers or outliers
UNIQUE = 0.9  # distinct share that counts as "every value different" (DuckDB's estimates can be 9% low)


def notes(profile: Sequence[ColumnProfile], rows: int, survey: Survey | None, damaged: str = "") -> tuple[str, ...]:
    """Everything worth knowing before an analysis, most urgent first."""
    out = list(survey.notes()) if survey is not None else []
    if damaged:
        out.append(damaged)
    ids = identifier_columns(profile, rows)
    if ids:
        named = ", ".join(f"`{c}`" for c in ids)
        out.append(
            f"Identifier-like column{'s' if len(ids) > 1 else ''}: {named}. "
            f"{'They label' if len(ids) > 1 else 'It labels'} rows rather than measure anything: count, join or look "
            "rows up by them, but don't add them up, average them or correlate them."
        )
    out += [extreme_note(c) for c in profile if c.name not in ids and is_extreme(c)]
    return tuple(out)


def identifier_columns(profile: Sequence[ColumnProfile], rows: int) -> list[str]:
    """Columns that label rows: integers or text named like an identifier with many values, or integers that are
    all different and nearly consecutive (1, 2, 3…)."""
    out = []
    for c in profile:
        filled = rows * (1.0 - c.missing)
        if c.type not in ("int64", "str") or c.distinct is None or filled < MIN_ROWS:
            continue
        named = bool(_ID_NAME.search(c.name))
        unique = c.distinct >= UNIQUE * filled
        if c.type == "int64":
            dense = unique and c.min is not None and (c.max - c.min + 1) <= 1.5 * filled
            if (named and c.distinct > 2) or dense:
                out.append(c.name)
        elif named and c.distinct >= 0.5 * filled:
            out.append(c.name)
    return out


def is_extreme(c: ColumnProfile) -> bool:
    """Whether a numeric column has a value far outside the bulk of the others."""
    if c.type not in ("int64", "float64") or None in (c.q1, c.q3, c.std, c.mean, c.min, c.max) or not c.std:
        return False
    spread = c.q3 - c.q1  # type: ignore[operator]
    if not spread > 0 or not math.isfinite(c.std):  # type: ignore[arg-type]
        return False
    high = c.max > c.q3 + FAR * spread and (c.max - c.mean) / c.std >= Z  # type: ignore[operator]
    low = c.min < c.q1 - FAR * spread and (c.mean - c.min) / c.std >= Z  # type: ignore[operator]
    return bool(high or low)


def extreme_note(c: ColumnProfile) -> str:
    """'Extreme value in `amount`: its largest, 1,000,000, lies 250 standard deviations above the mean…'."""
    high = (c.max - c.mean) / c.std >= (c.mean - c.min) / c.std  # type: ignore[operator]
    value, side = (c.max, "largest") if high else (c.min, "smallest")
    sigmas = abs(value - c.mean) / c.std  # type: ignore[operator]
    return (
        f"Extreme value in `{c.name}`: its {side}, {number(value)}, lies {sigmas:,.1f} standard deviations "
        f"{'above' if high else 'below'} the mean ({number(c.mean)}), while the middle half of the values lies "
        f"between {number(c.q1)} and {number(c.q3)}. Check whether it is an error before summing or averaging."
    )


def number(value: float | None) -> str:
    """A number as a note quotes it: whole numbers with thousands separators, others with 2 decimals (small ones
    with 3 significant digits)."""
    if value is None:
        return "none"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"
