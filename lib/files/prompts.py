"""Ready-made questions for the Analyze page."""

from __future__ import annotations

from lib.storage.records import FileRecord

READY = {
    "first_look": "First look",
    "drivers": "Drivers",
    "anomalies": "Anomalies",
    "trends": "Trends over time",
}


def ready(key: str, target: str = "") -> str:
    """The text of a ready prompt; `target` names the column the 'drivers' prompt is about."""
    if key == "drivers":
        subject = f"the column `{target}`" if target else "the most important outcome column (say which one you chose)"
        return (
            f"What drives {subject}? Rank the factors by strength of association, show the top ones in a "
            "chart, and say how confident you are and what could confound it."
        )
    return {
        "first_look": "Give me a first look at this data: size, column types, missing values, distributions of the "
        "main columns and anything surprising. Include at least one chart.",
        "anomalies": "Find anomalies: outliers, impossible values, duplicated rows and sudden jumps. List the worst "
        "cases in a table saved as CSV and show them in a chart.",
        "trends": "Find the date or time column and show how the main measures change over time: the trend, any "
        "seasonality and turning points, with a chart.",
    }[key]


def table_columns(records: list[FileRecord]) -> list[str]:
    """Column names of the first profiled table among the records, from the profile kept with each file."""
    for rec in records:
        if rec.profile is not None and rec.profile.columns:
            return rec.profile.names
    return []
