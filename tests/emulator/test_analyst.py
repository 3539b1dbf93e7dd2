"""The offline demo's scripted analyst answers the ready prompts and the samples' questions meaningfully: on the
columns a question names, totals as totals, the outlier by its id, and charts whose spec matches the PNG.

The plan tests are pure; the answer tests run the analyst's real code through the emulator and check the numbers
it quotes against the same numbers computed here from the sample files.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import anthropic
import numpy as np
import pandas as pd
import pytest

from lib.emulator import Emulator
from lib.emulator.analyst.plans import Roles, choose, named_columns, question_kind
from lib.files import charts, prompts, samples

TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]
SAMPLES = {s.name: s for s in samples.list_samples()}
SALES, CHURN = SAMPLES["monthly_sales.csv"], SAMPLES["subscriptions_churn.csv"]
SENSORS, STOCKS = SAMPLES["sensor_readings_semicolon.csv"], SAMPLES["stocks_monthly.csv"]
REAL_ANALYSIS = pytest.mark.timeout(120)
MEASURE_FIELDS = ("measure", "column", "factor", "row")  # where a spec of the analyst names the measure drawn


# --- plans: which analysis, on which columns -----------------------------------------------------------------

CHURN_ROLES = Roles(
    rows=1500,
    date="signup_date",
    ids=["customer_id"],
    categories={"plan_tier": 3},
    measures={
        "age": "mean",
        "monthly_price": "mean",
        "tenure_months": "mean",
        "monthly_hours_watched": "mean",
        "support_tickets_90d": "mean",
        "payment_failures_12m": "mean",
        "churned": "mean",
    },
    binary=["churned"],
)
SALES_ROLES = Roles(
    rows=576,
    date="date",
    categories={"region": 4, "product": 3},
    measures={"units": "sum", "revenue": "sum"},
)


def test_a_question_names_columns_by_their_whole_name_or_a_distinctive_word() -> None:
    churn = list(CHURN_ROLES.measures) + list(CHURN_ROLES.categories) + CHURN_ROLES.ids
    assert named_columns("What drives churn? Show churn rate by plan tier and viewing hours.", churn) == [
        "churned",
        "plan_tier",
        "monthly_hours_watched",
    ]
    assert named_columns("Which customer_id has the most support tickets?", churn) == [
        "customer_id",
        "support_tickets_90d",
    ]
    sensors = ["sensor_id", "temperature_c", "humidity_pct", "pressure_hpa"]
    assert named_columns("Plot each sensor's temperature over time", sensors) == ["sensor_id", "temperature_c"]
    assert named_columns("Give me a first look at monthly_sales.csv", ["units", "revenue", "region"]) == []


def test_the_ready_prompts_ask_for_the_analysis_they_name() -> None:
    assert question_kind(prompts.ready("first_look")) == "distribution"
    assert question_kind(prompts.ready("drivers", "churned")) == "drivers"
    assert question_kind(prompts.ready("anomalies")) == "anomaly"
    assert question_kind(prompts.ready("trends")) == "trend"
    assert question_kind("Which order_id has the largest amount_eur?") == "top"
    assert question_kind("Give me a first look at monthly_sales.csv") is None  # the table decides


def test_an_identifier_is_never_a_measure_and_the_outcome_is_said() -> None:
    for key in prompts.READY:
        chosen = choose(prompts.ready(key), CHURN_ROLES, first=True)
        assert chosen is not None
        for name in ("MEASURES", "FACTORS"):
            assert "customer_id" not in (chosen.params.get(name) or []), (key, chosen.params)
    drivers = choose(prompts.ready("drivers"), CHURN_ROLES, first=True)
    assert drivers.params["TARGET"] == "churned" and "yes/no" in drivers.params["WHY"]
    named = choose(prompts.ready("drivers", "tenure_months"), CHURN_ROLES, first=True)
    assert named.params["TARGET"] == "tenure_months" and not named.params["WHY"]


def test_a_trend_is_by_the_column_and_group_the_question_names() -> None:
    chosen = choose(SALES.suggested_question, SALES_ROLES, first=True)
    assert chosen.kind == "trend"
    assert chosen.params["MEASURES"] == {"revenue": "sum"} and chosen.params["GROUP"] == "region"
    assert chosen.params["FLAG"] is True  # "point out any month that looks anomalous"
    assert "totals (sum)" in chosen.intro
    plain = choose(prompts.ready("trends"), SALES_ROLES, first=True)
    assert plain.params["MEASURES"] == {"units": "sum", "revenue": "sum"} and plain.params["GROUP"] is None


# --- answers, computed here from the same files ------------------------------------------------------------------


@dataclass
class Answer:
    """What the analyst answered: its final text, every stdout and return code, and the files it saved."""

    text: str
    stdout: str
    return_codes: list[int]
    files: dict[str, bytes] = field(default_factory=dict)

    def spec(self) -> dict:
        [name] = [n for n in self.files if n.endswith(".vl.json")]
        return json.loads(self.files[name])


@pytest.fixture(scope="module")
def client() -> Iterator[anthropic.Anthropic]:
    with Emulator() as emu:
        yield anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)


def ask(client: anthropic.Anthropic, name: str, data: bytes, question: str) -> Answer:
    file_id = client.files.upload(file=(name, data, "text/csv")).id
    content = [{"type": "text", "text": question}, {"type": "container_upload", "file_id": file_id}]
    message = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=8000, tools=TOOLS, messages=[{"role": "user", "content": content}]
    )
    results = [b.content for b in message.content if b.type.endswith("_tool_result")]
    answer = Answer(message.content[-1].text, "".join(r.stdout for r in results), [r.return_code for r in results])
    for result in results:
        for out in result.content:
            answer.files[client.files.retrieve_metadata(out.file_id).filename] = client.files.download(
                out.file_id
            ).read()
    return answer


@REAL_ANALYSIS
@pytest.mark.parametrize("sample", list(SAMPLES))
def test_every_ready_prompt_runs_cleanly_on_every_sample(client: anthropic.Anthropic, sample: str) -> None:
    data = SAMPLES[sample].path.read_bytes()
    for key in prompts.READY:
        answer = ask(client, sample, data, prompts.ready(key))
        assert answer.return_codes and not any(answer.return_codes), (key, answer.stdout[-2000:])
        assert "I couldn't finish" not in answer.text
        charts.validate(answer.spec())  # drawable as it is, and never a URL
        assert any(n.endswith(".png") for n in answer.files)
        charted = {str(v.get(k)).split(" (")[0] for v in answer.spec()["data"]["values"] for k in MEASURE_FIELDS}
        assert "customer_id" not in charted, "an identifier is never charted as a measure"


@REAL_ANALYSIS
def test_trends_are_monthly_totals_said_as_sums(client: anthropic.Anthropic) -> None:
    table = pd.read_csv(SALES.path, parse_dates=["date"])
    totals = table.groupby("date")[["units", "revenue"]].sum()
    answer = ask(client, SALES.name, SALES.path.read_bytes(), prompts.ready("trends"))
    first, last = totals["units"].iloc[0], totals["units"].iloc[-1]
    assert f"`units` (sum per month) went from {first:,} in 2021-01 to {last:,} in 2024-12" in answer.text
    assert f"{(last - first) / first * 100:+.1f}%" in answer.text
    assert "Seasonality in `units`: highest in December" in answer.text and "lowest in June" in answer.text
    spec = answer.spec()
    assert spec["facet"]["row"]["sort"] == ["units (sum per month)", "revenue (sum per month)"]
    line = spec["spec"]["layer"][0]["encoding"]
    assert line["y"]["scale"]["zero"] is False
    assert {t.get("format") for t in line["tooltip"] if t["field"] == "value"} == {",.2f"}  # rounded in the tooltip
    charted = {v["_when"][:7]: v["value"] for v in spec["data"]["values"] if v["measure"].startswith("units")}
    assert charted["2021-01"] == first and charted["2024-12"] == last


@REAL_ANALYSIS
def test_the_samples_question_is_answered_by_region_with_its_anomalous_month(client: anthropic.Anthropic) -> None:
    table = pd.read_csv(SALES.path, parse_dates=["date"])
    by_region = table.groupby(["date", "region"])["revenue"].sum().unstack()
    answer = ask(client, SALES.name, SALES.path.read_bytes(), SALES.suggested_question)
    east = by_region["East"]
    assert f"East {east.iloc[0]:,.2f} → {east.iloc[-1]:,.2f}" in answer.text
    assert "The month that stands out most is 2023-08 in East: `revenue` (sum)" in answer.text
    spec = answer.spec()
    assert spec["spec"]["layer"][0]["encoding"]["color"]["field"] == "region"
    flagged = [v for v in spec["data"]["values"] if v["flagged"]]
    assert [(v["_when"][:7], v["region"]) for v in flagged] == [("2023-08", "East")]


@REAL_ANALYSIS
def test_anomalies_name_the_planted_stock_out_and_save_the_worst_cases(client: anthropic.Anthropic) -> None:
    answer = ask(client, SALES.name, SALES.path.read_bytes(), prompts.ready("anomalies"))
    assert "The worst case is `East · Blender · 2023-08`" in answer.text
    worst = pd.read_csv(io.BytesIO(answer.files["monthly_sales_anomalies.csv"]))
    assert set(worst["case"][:2]) == {"East · Blender · 2023-08"} and set(worst["measure"][:2]) == {"units", "revenue"}
    table = pd.read_csv(SALES.path)
    planted = table[(table["region"] == "East") & (table["product"] == "Blender") & (table["date"] == "2023-08-01")]
    assert planted["units"].iloc[0] in set(worst["value"])


@REAL_ANALYSIS
def test_anomalies_of_items_are_named_by_their_identifier(client: anthropic.Anthropic) -> None:
    table = pd.read_csv(CHURN.path)
    answer = ask(client, CHURN.name, CHURN.path.read_bytes(), prompts.ready("anomalies"))
    longest = table.loc[table["tenure_months"].idxmax(), "customer_id"]
    assert (
        f"The worst case is `customer_id {longest}`: `tenure_months` is {table['tenure_months'].max()}" in answer.text
    )


@REAL_ANALYSIS
def test_drivers_choose_the_yes_no_outcome_and_rank_by_association(client: anthropic.Anthropic) -> None:
    table = pd.read_csv(CHURN.path)
    answer = ask(client, CHURN.name, CHURN.path.read_bytes(), prompts.ready("drivers"))
    assert "I chose `churned` as the outcome: it is the only yes/no (0/1) column." in answer.text
    numbers = table.drop(columns=["customer_id", "signup_date", "plan_tier", "churned"])
    strongest = numbers.corrwith(table["churned"]).abs().idxmax()
    assert f"Ranked by strength of association with `churned`: `{strongest}`" in answer.text
    rate = table.groupby("plan_tier")["churned"].mean()
    assert f"Basic {rate['Basic']:.1%}" in answer.text and "Confidence:" in answer.text
    assert "`monthly_price` and `plan_tier` move together" in answer.text  # the price follows the tier


@REAL_ANALYSIS
def test_which_id_has_the_largest_value_is_answered_with_that_id(client: anthropic.Anthropic) -> None:
    rng = np.random.default_rng(5)
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1000, 1200),
            "order_date": pd.date_range("2024-01-01", periods=200, freq="D").strftime("%Y-%m-%d"),
            "amount_eur": rng.gamma(2, 100, 200).round(2),
            "items": rng.integers(1, 9, 200),
        }
    )
    data = orders.to_csv(index=False).encode()
    answer = ask(client, "orders.csv", data, "Which order_id has the largest amount_eur?")
    top = pd.read_csv(io.BytesIO(data)).nlargest(2, "amount_eur")
    assert f"`order_id` {top['order_id'].iloc[0]} has the largest `amount_eur`: {top['amount_eur'].iloc[0]:,.2f}." in (
        answer.text
    )
    assert f"Next: {top['order_id'].iloc[1]} ({top['amount_eur'].iloc[1]:,.2f})" in answer.text
    correlated = ask(client, "orders.csv", data, "Which columns are correlated?")
    assert "order_id" not in correlated.spec()["encoding"]["x"]["sort"], "an id is not a measure"


@REAL_ANALYSIS
def test_sensors_are_averaged_per_day_and_the_drifting_one_stands_out(client: anthropic.Anthropic) -> None:
    answer = ask(client, SENSORS.name, SENSORS.path.read_bytes(), SENSORS.suggested_question)
    assert "`temperature_c` (mean per day) by `sensor_id`" in answer.text
    assert "`S-03` changed the most" in answer.text
    assert "Missing values: `temperature_c` 12, `humidity_pct` 6 (of 2,160 rows)." in answer.text


@REAL_ANALYSIS
def test_the_heatmap_is_square_and_annotated_like_its_png(client: anthropic.Anthropic) -> None:
    answer = ask(client, CHURN.name, CHURN.path.read_bytes(), "How are the numeric columns correlated?")
    spec = answer.spec()
    names = spec["encoding"]["x"]["sort"]
    assert spec["width"] == spec["height"] == 44 * len(names)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "text"]
    assert spec["layer"][1]["encoding"]["text"]["format"] == ".2f"
    assert "customer_id" not in names and "churned" in names
