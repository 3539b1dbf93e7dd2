"""The demo analyst's plans for SQL sources: code that awaits `sql(...)` (programmatic tool calling) for the
sources the system prompt lists, then answers from what it printed."""

from __future__ import annotations

import re

from lib.emulator.script import Later, Progress, Python, Step, Text

from .reading import failure_reason, labelled

SQL_TOOL = "sql"
SOURCE_LINE = re.compile(r"^Source `(?P<name>[a-z][a-z0-9_]*)` \(", re.MULTILINE)
TABLE_LINE = re.compile(r"^- (?P<table>[\w.]+) \((?:table|view), ")
REVENUE_WORDS = ("revenue", "region", "sales", "quarter")
MAX_TABLES = 3

FRAME = '''\
import asyncio
import json
import os

import pandas as pd

SOURCE = {source!r}


def frame(result):
    """A query's rows as a DataFrame; a query the source refused stops the cell with its message."""
    if "error" in result:
        raise RuntimeError(f"{{result['error']['kind']}}: {{result['error']['message']}}")
    return pd.DataFrame(result["rows"], columns=[c["name"] for c in result["columns"]])

'''

REVENUE = """\
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

latest = frame(await sql(source=SOURCE, query="SELECT max(date) AS latest FROM monthly_sales"))["latest"][0]
end = pd.Timestamp(latest)
start = (end - pd.DateOffset(months=2)).strftime("%Y-%m-%d")
by_region, by_month = await asyncio.gather(
    sql(
        source=SOURCE,
        query="SELECT region, round(sum(revenue), 2) AS revenue, sum(units) AS units FROM monthly_sales "
        f"WHERE date >= '{start}' GROUP BY region ORDER BY revenue DESC",
    ),
    sql(
        source=SOURCE,
        query="SELECT date, region, round(sum(revenue), 2) AS revenue FROM monthly_sales "
        f"WHERE date >= '{start}' GROUP BY date, region ORDER BY date, region",
    ),
)
regions, months = frame(by_region), frame(by_month)
total = regions["revenue"].sum()
top = regions.iloc[0]
print(f"Quarter: {start} to {end:%Y-%m-%d}")
print("Revenue by region:")
print(regions.to_string(index=False))
print(f"Total revenue: {total:,.2f}")
print(f"Top region: {top['region']} with {top['revenue']:,.2f} ({top['revenue'] / total * 100:.1f}% of the total)")

out = os.environ.get("OUTPUT_DIR", "outputs")
os.makedirs(out, exist_ok=True)
chart = os.path.join(out, "revenue_by_region.png")
pivot = months.pivot(index="date", columns="region", values="revenue").reindex(columns=regions["region"])
fig, ax = plt.subplots(figsize=(8, 4.5))
pivot.T.plot.bar(ax=ax)
ax.set_title(f"Revenue by region, {start} to {end:%Y-%m-%d}")
ax.set_xlabel("region")
ax.set_ylabel("revenue")
ax.legend(title="month", labels=[str(d)[:7] for d in pivot.index])
fig.tight_layout()
fig.savefig(chart, dpi=120)
plt.close(fig)
spec = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "title": f"Revenue by region, {start} to {end:%Y-%m-%d}",
    "data": {"values": json.loads(months.to_json(orient="records"))},
    "mark": {"type": "bar", "tooltip": True},
    "encoding": {
        "x": {"field": "region", "type": "nominal", "sort": list(regions["region"]), "title": "region"},
        "xOffset": {"field": "date", "type": "nominal"},
        "y": {"field": "revenue", "type": "quantitative", "title": "revenue"},
        "color": {"field": "date", "type": "nominal", "title": "month"},
    },
}
with open(chart[: -len(".png")] + ".vl.json", "w", encoding="utf-8") as f:
    json.dump(spec, f, indent=1)
print(f"Saved chart: {os.path.basename(chart)}")
"""

OVERVIEW = """\
TABLES = {tables!r}
counts = await asyncio.gather(*[sql(source=SOURCE, query=f"SELECT count(*) AS n FROM {{t}}") for t in TABLES])
for table, result in zip(TABLES, counts):
    if "error" in result:
        print(f"Table {{table}}: error {{result['error']['kind']}}: {{result['error']['message']}}")
    else:
        print(f"Table {{table}}: {{frame(result)['n'][0]:,}} rows")
first = frame(await sql(source=SOURCE, query=f"SELECT * FROM {{TABLES[0]}} LIMIT 5"))
print(f"First rows of {{TABLES[0]}}:")
print(first.to_string(index=False))
"""


def listed_sources(system: str) -> list[tuple[str, list[str]]]:
    """The sources the system prompt lists, each with its tables, in order."""
    found: list[tuple[str, list[str]]] = []
    for line in system.splitlines():
        source = SOURCE_LINE.match(line)
        if source:
            found.append((source.group("name"), []))
            continue
        table = TABLE_LINE.match(line)
        if table and found:
            found[-1][1].append(table.group("table"))
    return found


def source_script(turn: Progress, question: str) -> list[Step] | None:
    """Steps that query the first source the system prompt lists, when the code may call `sql`; else None."""
    if SQL_TOOL not in turn.tools or turn.container is None:
        return None
    sources = [(name, tables) for name, tables in listed_sources(turn.system) if tables]
    if not sources:
        return None
    name, tables = sources[0]
    if "monthly_sales" in tables and any(w in question.lower() for w in REVENUE_WORDS):
        return _revenue(name)
    return _overview(name, tables[:MAX_TABLES])


def _revenue(source: str) -> list[Step]:
    return [
        Text(
            f"I'll ask the `{source}` source for the latest month, then for the last three months' revenue by "
            "region and by month, and chart it."
        ),
        Python(FRAME.format(source=source) + REVENUE),
        Later(lambda turn: [Text(_revenue_answer(turn, source))]),
    ]


def _overview(source: str, tables: list[str]) -> list[Step]:
    listed = ", ".join(f"`{t}`" for t in tables)
    return [
        Text(f"I'll count the rows of {listed} in the `{source}` source and look at the first rows."),
        Python(FRAME.format(source=source) + OVERVIEW.format(tables=tables)),
        Later(lambda turn: [Text(_overview_answer(turn, source))]),
    ]


def _failure(turn: Progress, source: str) -> str:
    return f"I couldn't finish querying `{source}`: {failure_reason(turn)}"


def _revenue_answer(turn: Progress, source: str) -> str:
    out = turn.stdout
    top, quarter = labelled(out, "Top region"), labelled(out, "Quarter")
    if top is None or quarter is None:
        return _failure(turn, source)
    region, _, rest = top.partition(" with ")
    chart = labelled(out, "Saved chart")
    saved = f" The chart is `{chart}` in `outputs/`." if chart else ""
    return (
        f"**{region}** had the most revenue last quarter ({quarter}): {rest}. "
        f"Total revenue across regions was {labelled(out, 'Total revenue')}, queried live from `{source}`.{saved}"
    )


def _overview_answer(turn: Progress, source: str) -> str:
    out = turn.stdout
    counts = re.findall(r"^Table (\S+): (.*)$", out, re.MULTILINE)
    if not counts:
        return _failure(turn, source)
    listed = "; ".join(f"`{table}`: {what}" for table, what in counts)
    return f"From `{source}`: {listed}."
