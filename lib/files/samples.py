"""The small sample datasets shipped in samples/, with a description and a question to try."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES_DIR = REPO_ROOT / "samples"


@dataclass(frozen=True)
class Sample:
    """One sample file: its name, absolute path, what it holds and a first question to ask."""

    name: str
    path: Path
    description: str
    suggested_question: str


# (file name, description, suggested question), in the order the app shows them.
CATALOGUE: tuple[tuple[str, str, str], ...] = (
    (
        "monthly_sales.csv",
        "Monthly units and revenue by region and product, 2021–2024 (synthetic).",
        "Show the revenue trend and seasonality by region, and point out any month that looks anomalous.",
    ),
    (
        "subscriptions_churn.csv",
        "1,500 streaming-service customers with plan tier, tenure, viewing hours, "
        "support tickets and whether they churned (synthetic).",
        "What drives churn? Rank the factors and show churn rate by plan tier and viewing hours.",
    ),
    (
        "sensor_readings_semicolon.csv",
        "Hourly temperature, humidity and pressure from three sensors over March 2025; "
        "semicolon-delimited with decimal commas and a few gaps (synthetic).",
        "Plot each sensor's temperature over time, report the missing readings, and check whether any sensor drifts.",
    ),
    (
        "stocks_monthly.csv",
        "Real monthly closing prices 1990–2022 for eight tech stocks and two indices "
        "(matplotlib sample data, originally from Yahoo Finance).",
        "Clean the empty rows, then compare each stock's growth since 2000 against the S&P 500 on a log scale.",
    ),
)


def list_samples(samples_dir: Path = SAMPLES_DIR) -> list[Sample]:
    """The catalogued sample files that exist in samples_dir."""
    return [
        Sample(name, samples_dir / name, description, question)
        for name, description, question in CATALOGUE
        if (samples_dir / name).is_file()
    ]
