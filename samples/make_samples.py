"""Regenerate the sample datasets in this folder (deterministic: fixed numpy seeds).

Run from anywhere: python samples/make_samples.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import cbook

HERE = Path(__file__).resolve().parent


def monthly_sales(seed: int = 7) -> pd.DataFrame:
    """Four years of monthly units and revenue by region and product: trend, seasonality, one anomaly."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2021-01-01", "2024-12-01", freq="MS")
    regions = {"North": 1.0, "South": 0.8, "East": 1.2, "West": 0.9}
    products = {"Kettle": (39.0, 120), "Toaster": (54.0, 80), "Blender": (89.0, 45)}
    rows = []
    for i, month in enumerate(months):
        trend = 1 + 0.012 * i  # about +15% a year
        season = 1 + 0.25 * np.cos(2 * np.pi * (month.month - 12) / 12)  # December peak, June trough
        for region, region_factor in regions.items():
            for product, (price, base_units) in products.items():
                units = base_units * region_factor * trend * season * rng.normal(1, 0.06)
                if region == "East" and product == "Blender" and month == pd.Timestamp("2023-08-01"):
                    units *= 0.15  # the anomaly: a stock-out
                units = max(int(round(units)), 0)
                unit_price = price * (1 - 0.05 * (month.month == 11)) * rng.normal(1, 0.01)  # November promo
                rows.append((month.date().isoformat(), region, product, units, round(units * unit_price, 2)))
    return pd.DataFrame(rows, columns=["date", "region", "product", "units", "revenue"])


def subscriptions_churn(seed: int = 11, n: int = 1500) -> pd.DataFrame:
    """Streaming-service customers whose churn depends on usage, tickets, tenure, tier and payment failures."""
    rng = np.random.default_rng(seed)
    tier = rng.choice(["Basic", "Standard", "Premium"], size=n, p=[0.45, 0.35, 0.20])
    price = pd.Series(tier).map({"Basic": 7.99, "Standard": 12.99, "Premium": 17.99}).to_numpy()
    tenure = rng.gamma(2.0, 9.0, size=n).round().astype(int) + 1
    hours = np.clip(rng.gamma(3.0, 9.0, size=n) * np.where(tier == "Premium", 1.3, 1.0), 0, None).round(1)
    tickets = rng.poisson(0.6 + 0.8 * (hours < 10), size=n)
    failures = rng.binomial(2, 0.08, size=n)
    age = rng.integers(18, 75, size=n)
    logit = (
        -1.2
        - 0.07 * (hours - 25)
        + 0.55 * tickets
        - 0.035 * tenure
        + 0.9 * failures
        + np.where(tier == "Basic", 0.4, np.where(tier == "Premium", -0.3, 0.0))
    )
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    signup = pd.Timestamp("2025-06-30") - pd.to_timedelta(tenure * 30, unit="D")
    return pd.DataFrame(
        {
            "customer_id": [f"C{10001 + i}" for i in range(n)],
            "signup_date": signup.strftime("%Y-%m-%d"),
            "age": age,
            "plan_tier": tier,
            "monthly_price": price,
            "tenure_months": tenure,
            "monthly_hours_watched": hours,
            "support_tickets_90d": tickets,
            "payment_failures_12m": failures,
            "churned": churned.astype(int),
        }
    )


def sensor_readings(seed: int = 3) -> pd.DataFrame:
    """Hourly readings of three room sensors for 30 days, with gaps and one drifting sensor."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2025-03-01 00:00", periods=30 * 24, freq="h")
    hours = times.hour.to_numpy()
    frames = []
    for k, sensor in enumerate(["S-01", "S-02", "S-03"]):
        temp = 20.5 + k * 0.8 + 2.2 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 0.3, len(times))
        if sensor == "S-03":
            temp += np.linspace(0, 3.0, len(times))  # slow calibration drift
        humidity = 45 - 1.5 * (temp - 21) + rng.normal(0, 2, len(times))
        pressure = 1013 + np.cumsum(rng.normal(0, 0.4, len(times)))
        frame = pd.DataFrame(
            {
                "timestamp": times.strftime("%Y-%m-%d %H:%M"),
                "sensor_id": sensor,
                "temperature_c": temp.round(2),
                "humidity_pct": humidity.round(1),
                "pressure_hpa": pressure.round(1),
            }
        )
        gaps = rng.choice(len(frame), size=6, replace=False)
        frame.loc[gaps[:4], "temperature_c"] = np.nan
        frame.loc[gaps[4:], "humidity_pct"] = np.nan
        frames.append(frame)
    return pd.concat(frames).sort_values(["timestamp", "sensor_id"], kind="stable").reset_index(drop=True)


def copy_stocks(target: Path) -> None:
    """Copy matplotlib's Stocks.csv sample data (monthly prices from Yahoo Finance) unchanged."""
    shutil.copyfile(cbook.get_sample_data("Stocks.csv", asfileobj=False), target)


def main() -> None:
    """Write every sample file next to this script."""
    monthly_sales().to_csv(HERE / "monthly_sales.csv", index=False)
    subscriptions_churn().to_csv(HERE / "subscriptions_churn.csv", index=False)
    sensor_readings().to_csv(HERE / "sensor_readings_semicolon.csv", sep=";", decimal=",", index=False)
    copy_stocks(HERE / "stocks_monthly.csv")
    for path in sorted(HERE.glob("*.csv")):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
