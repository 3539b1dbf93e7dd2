"""Plans whose answers quote figures, as analysts write them: averages the prose rounds, shares it states as
percents of the fractions a cell printed, and a projection it states although no cell printed it. The app traces
each number in an answer to the output that showed it, so the last one is marked as untraced, as it should be."""

from __future__ import annotations

import math
import re
from pathlib import Path

from lib.emulator.script import Later, Progress, Python, Step, Text

# columns the question names are preferred; the question's words, for the cell to match against
_WORDS = re.compile(r"[a-z0-9_^%.-]+")

# the numeric columns, also those written with decimal commas (read as text)
NUMERIC = """\
num = df.select_dtypes("number")
for c in [c for c in df.columns if c not in num.columns]:
    parsed = pd.to_numeric(df[c].astype(str).str.replace(",", ".", regex=False), errors="coerce")
    if parsed.notna().any() and parsed.notna().mean() >= 0.9:
        num[c] = parsed
num = num[[c for c in df.columns if c in num.columns and num[c].notna().any()]]
"""

AVERAGES = (
    NUMERIC
    + """\
cols = [c for c in num.columns if str(c).lower() in WORDS] or list(num.columns)
for col in cols[:3]:
    values = num[col].dropna()
    print(f"Average of {col}: mean {values.mean():.6f}, median {values.median():.6f}")
if not cols:
    print("No numeric columns to average.")
"""
)

SHARES = """\
few = [c for c in df.columns if 1 < df[c].nunique() <= 12]
col = next((c for c in few if str(c).lower() in WORDS), few[0] if few else None)
if col is None:
    print("No column with a few repeated values to split the rows by.")
else:
    print(f"Share of rows by {col}:")
    for value, share in df[col].value_counts(normalize=True, dropna=False).items():
        print(f"{value}: {share:.4f}")
"""

PROJECTION = (
    NUMERIC
    + """\
col = next((c for c in num.columns if str(c).lower() in WORDS), num.columns[0] if len(num.columns) else None)
date_col = find_date_column(df)
if col is None:
    print("No numeric column to project.")
else:
    if date_col is not None:
        when = pd.to_datetime(df[date_col], errors="coerce", format="mixed")
        for freq, unit in (("M", "month"), ("W", "week"), ("D", "day")):
            periods = when.dt.to_period(freq)
            if periods.nunique() >= 4:
                break
        series = num[col].groupby(periods).mean().dropna()
    else:
        unit, series = "row", num[col].dropna().reset_index(drop=True)
    changes = series.diff().dropna().tail(12)
    print(f"Average {col} per {unit}, the last three:")
    for period, value in series.tail(3).items():
        print(f"{period}: {value:.2f}")
    print(f"Mean change per {unit} over the last {len(changes)}: {changes.mean():+.2f}")
"""
)

_AVERAGE = re.compile(r"^Average of (.+): mean (\S+), median (\S+)$", re.M)
_SHARES = re.compile(r"^Share of rows by (.+):$", re.M)
_LAST = re.compile(r"^Average (.+) per (\w+), the last three:$", re.M)
_CHANGE = re.compile(r"^Mean change per \w+ over the last (\d+): (\S+)$", re.M)
_PRINTED = re.compile(r"-?\d+(?:\.\d+)?")


def figures_kind(question: str) -> str | None:
    """Which of these plans a question asks for, if any."""
    q = question.lower()
    if any(w in q for w in ("forecast", "predict", "projection", "next month", "next week", "next year")):
        return "projection"
    if any(w in q for w in ("share of", "what share", "percent", "proportion", "what fraction")):
        return "shares"
    if any(w in q for w in ("average", "typical value")):
        return "averages"
    return None


def figures_script(table: Path, question: str, loader: str) -> list[Step] | None:
    """The steps of the plan the question asks for (None: it asks for none of them); `loader` loads `table` as
    `df`."""
    kind = figures_kind(question)
    if kind is None:
        return None
    words = sorted(set(_WORDS.findall(question.lower())))  # sorted, so the same question gives the same code
    cell, intro, answer = {
        "averages": (AVERAGES, "the averages of its numeric columns", _averages),
        "shares": (SHARES, "how its rows split by a column with a few values", _shares),
        "projection": (PROJECTION, "how its main measure moved lately", _projection),
    }[kind]
    name = table.name
    return [
        Text(f"I'll load `{name}` and work out {intro}."),
        Python(loader + f"WORDS = {words!r}\n" + cell),
        Later(lambda turn: [Text(answer(_printed(turn), name))]),
    ]


def _printed(turn: Progress) -> str:
    return turn.records[-1].stdout if turn.records else ""


def _averages(out: str, name: str) -> str:
    found = _AVERAGE.findall(out)
    if not found:
        return f"`{name}` has no numeric columns to average."
    parts = [f"`{col}` is about {_round(mean)} (median about {_round(median)})" for col, mean, median in found]
    return "On average, " + _listed(parts) + ". I rounded the figures the cell printed in full."


def _shares(out: str, name: str) -> str:
    head = _SHARES.search(out)
    if head is None:
        return f"`{name}` has no column with a few repeated values to split its rows by."
    pairs = [line.rsplit(": ", 1) for line in out[head.end() :].strip().splitlines()]
    parts = [f"`{value}` in {float(share) * 100:.1f}%" for value, share in pairs[:4]]
    more = f" ({len(pairs) - 4} other values share the rest)" if len(pairs) > 4 else ""
    return f"`{head[1]}` is " + _listed(parts) + f" of the rows{more}."


def _projection(out: str, name: str) -> str:
    head, change = _LAST.search(out), _CHANGE.search(out)
    lines = out[head.end() : change.start()].strip().splitlines() if head and change else []
    if head is None or change is None or not lines or not math.isfinite(step := float(change[2])):
        return f"`{name}` has no numeric column whose recent movement I could project."
    col, unit = head[1], head[2]
    period, last = lines[-1].rsplit(": ", 1)
    # stated without any cell printing it, as an analyst sometimes does: it must not happen to be a printed value
    printed = [float(p) for p in _PRINTED.findall(out)]
    ahead = float(last) + step
    while any(abs(p - ahead) <= 0.05 for p in printed):
        ahead += 0.1
    return (
        f"Average `{col}` was {last} in the latest {unit} ({period}) and moved by {change[2]} a {unit} over the "
        f"last {change[1]} {unit}s. At that pace the next {unit} should come in at {ahead:,.1f}."
    )


def _round(written: str) -> str:
    """A figure as prose rounds it: whole above a thousand, one decimal above one, else three digits."""
    value = float(written)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3g}"


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
