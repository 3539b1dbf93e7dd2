"""The default analyst: a real first look at the container's table, steered lightly by the question."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from .runner import OUTPUTS
from .script import Bash, Later, Python, Step, Text
from .turn import Turn

TABULAR = {".csv", ".tsv", ".tab", ".xlsx", ".xlsm", ".xls", ".json", ".jsonl", ".ndjson", ".parquet"}
TOOL_HINT = '{"type": "code_execution_20260521", "name": "code_execution"}'

LOADER = '''\
import csv, io, json, os, warnings
import pandas as pd

warnings.filterwarnings("ignore")
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 30)


def load_table(path):
    """Load CSV/TSV (any delimiter, UTF-8/BOM/Latin-1), Excel, JSON or Parquet."""
    ext = os.path.splitext(path)[1].lower()
    if ext in (".xlsx", ".xlsm", ".xls"):
        return pd.read_excel(path)
    if ext == ".parquet":
        return pd.read_parquet(path)
    if ext in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True)
    if ext == ".json":
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
        if isinstance(data, dict):
            lists = [v for v in data.values() if isinstance(v, list)]
            data = lists[0] if len(lists) == 1 else data
        return pd.json_normalize(data) if isinstance(data, list) else pd.DataFrame(data)
    raw = open(path, "rb").read()
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        sep = csv.Sniffer().sniff(text[:20000], delimiters=",;\\t|").delimiter
    except csv.Error:
        sep = "\\t" if ext in (".tsv", ".tab") else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep)
    except pd.errors.ParserError:
        return pd.read_csv(io.StringIO(text), sep=sep, engine="python", on_bad_lines="skip")


def find_date_column(df):
    """The first column that is, or parses as, dates."""
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            return col
    for col in df.select_dtypes(exclude="number").columns:
        values = df[col].dropna().astype(str).head(500)
        if len(values) < 2 or values.str.contains(r"\\d{1,4}[-/.]\\d{1,2}").mean() < 0.8:
            continue
        try:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        except (ValueError, TypeError):
            continue
        if parsed.notna().mean() >= 0.8:
            return col
    return None

'''

PROFILE = """\
print(f"File: {PATH}")
print(f"Rows: {len(df)}")
print(f"Columns: {df.shape[1]}")
print()
print("Column types:")
print(df.dtypes.to_string())
print()
print("Summary statistics:")
try:
    print(df.describe().T.to_string())
except ValueError:
    print(df.describe(include="all").T.to_string())
print()
missing = df.isna().sum()
print("Missing values per column:")
print(missing.to_string())
if len(missing) and missing.max() > 0:
    print(f"Most missing: {missing.idxmax()} ({int(missing.max())} of {len(df)} missing)")
else:
    print("Most missing: none (no missing values)")
"""

CHART = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

out = os.environ.get("OUTPUT_DIR", "outputs")
os.makedirs(out, exist_ok=True)
num = df.select_dtypes("number")
num = num.loc[:, num.notna().any()]
date_col = find_date_column(df)
kind = {kind!r}
if kind == "auto":
    kind = "trend" if date_col is not None and not num.empty else "distribution"
if kind == "trend" and (date_col is None or num.empty):
    kind = "distribution"
if kind == "correlation" and num.shape[1] < 2:
    kind = "distribution"
if kind == "anomaly" and num.empty:
    kind = "distribution"

stem = {stem!r}
chart = os.path.join(out, f"{{stem}}_{{kind}}.png")
n = 2
while os.path.exists(chart):
    chart = os.path.join(out, f"{{stem}}_{{kind}}_{{n}}.png")
    n += 1

finding = ""
try:
    if df.dropna(how="all").empty:
        raise ValueError("the table has no data rows")
    if kind == "trend":
        when = pd.to_datetime(df[date_col], errors="coerce", format="mixed")
        series = num.assign(_when=when).dropna(subset=["_when"]).sort_values("_when")
        if series["_when"].nunique() > 120:
            series["_when"] = series["_when"].dt.to_period("M").dt.to_timestamp()
        series = series.groupby("_when").mean()
        cols = list(series.columns[:4])
        fig, axes = plt.subplots(len(cols), 1, figsize=(9, 2.6 * len(cols)), sharex=True, squeeze=False)
        for ax, col in zip(axes[:, 0], cols):
            ax.plot(series.index, series[col], marker=".", linewidth=1.2)
            ax.set_ylabel(str(col))
            ax.grid(alpha=0.3)
        axes[0, 0].set_title(f"{{', '.join(map(str, cols))}} over {{date_col}}")
        first, last = series[cols[0]].dropna().iloc[[0, -1]]
        change = f" ({{(last - first) / abs(first) * 100:+.1f}}%)" if first else ""
        finding = (f"`{{cols[0]}}` went from {{first:,.2f}} to {{last:,.2f}}{{change}}"
                   f" between the first and last `{{date_col}}`.")
    elif kind == "correlation":
        corr = num.corr()
        fig, ax = plt.subplots(figsize=(1.1 * len(corr) + 3, 1.0 * len(corr) + 2))
        im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_xticks(range(len(corr)), [str(c) for c in corr.columns], rotation=45, ha="right")
        ax.set_yticks(range(len(corr)), [str(c) for c in corr.columns])
        for i in range(len(corr)):
            for j in range(len(corr)):
                if pd.notna(corr.iat[i, j]):
                    ax.text(j, i, f"{{corr.iat[i, j]:.2f}}", ha="center", va="center", fontsize=8,
                            color="white" if abs(corr.iat[i, j]) > 0.6 else "black")
        fig.colorbar(im, ax=ax)
        ax.set_title("Correlation between numeric columns")
        pairs = corr.where(np.triu(np.ones(corr.shape, dtype=bool), k=1)).stack()
        if len(pairs):
            a, b = pairs.abs().idxmax()
            finding = f"The strongest relationship is between `{{a}}` and `{{b}}` (r = {{pairs[(a, b)]:.2f}})."
    elif kind == "anomaly":
        z = (num - num.mean()) / num.std(ddof=0).replace(0, np.nan)
        outliers = (z.abs() > 3).sum()
        cols = list(num.columns[:8])
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(cols)), 4.5))
        ax.boxplot([z[c].dropna() for c in cols])
        ax.set_xticks(range(1, len(cols) + 1), [str(c) for c in cols], rotation=30, ha="right")
        ax.axhline(3, color="red", linestyle="--", linewidth=0.8)
        ax.axhline(-3, color="red", linestyle="--", linewidth=0.8)
        ax.set_ylabel("z-score")
        ax.set_title("Values beyond 3 standard deviations (red lines)")
        if outliers.sum():
            finding = (f"`{{outliers.idxmax()}}` has the most outliers: {{int(outliers.max())}} values beyond"
                       f" 3 standard deviations ({{int(outliers.sum())}} in all columns).")
        else:
            finding = "No value lies more than 3 standard deviations from its column mean."
    elif num.empty:
        col = df.columns[0]
        counts = df[col].astype(str).value_counts().head(15)
        fig, ax = plt.subplots(figsize=(8, 4.5))
        counts[::-1].plot.barh(ax=ax)
        ax.set_title(f"Most common values of {{col}}")
        finding = f"The most common `{{col}}` is {{counts.index[0]}} ({{int(counts.iloc[0])}} rows)."
    else:
        cols = list(num.columns[:9])
        ncols = min(3, len(cols))
        nrows = -(-len(cols) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
        for ax, col in zip(axes.flat, cols):
            ax.hist(num[col].dropna(), bins=20, color="#4C72B0", edgecolor="white")
            ax.set_title(str(col))
        for ax in list(axes.flat)[len(cols):]:
            ax.axis("off")
        fig.suptitle("Distribution of numeric columns")
        col = cols[0]
        finding = (f"`{{col}}` averages {{num[col].mean():,.2f}} (median {{num[col].median():,.2f}},"
                   f" range {{num[col].min():,.2f}} to {{num[col].max():,.2f}}).")
    fig.tight_layout()
    fig.savefig(chart, dpi=100)
except Exception as exc:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.text(0.5, 0.5, f"Could not draw a {{kind}} chart:\\n{{exc}}", ha="center", va="center")
    ax.axis("off")
    fig.savefig(chart, dpi=100)
    finding = f"The {{kind}} chart failed ({{exc}}), so I saved a placeholder."
plt.close("all")
print(f"Saved chart: {{os.path.basename(chart)}}")
"""

SUMMARY = """\
summary = pd.DataFrame({{"dtype": df.dtypes.astype(str), "missing": df.isna().sum(), "unique": df.nunique()}})
if not num.empty:
    summary = summary.join(num.describe().T[["mean", "std", "min", "max"]])
summary.index.name = "column"
summary_path = os.path.join(out, f"{{stem}}_summary.csv")
summary.to_csv(summary_path)
print(f"Saved summary: {{os.path.basename(summary_path)}}")
"""

FINDING = 'print(f"Finding: {finding}")\n'


def question_kind(question: str) -> str | None:
    """The chart a question asks for, if any."""
    q = question.lower()
    if any(w in q for w in ("trend", "over time", "time series", "seasonal")):
        return "trend"
    if any(w in q for w in ("anomal", "outlier", "unusual")):
        return "anomaly"
    if any(w in q for w in ("driver", "correlat", "relationship", "drives")):
        return "correlation"
    if any(w in q for w in ("distribution", "histogram", "spread")):
        return "distribution"
    return None


def tabular_files(workdir: Path, preferred: list[str]) -> list[Path]:
    """Tables in the container, the ones uploaded with this request first, then newest."""
    found = [p for p in workdir.iterdir() if p.is_file() and p.suffix.lower() in TABULAR]
    found.sort(key=lambda p: (p.name not in preferred, -p.stat().st_mtime))
    return found


def default_script(workdir: Path | None, question: str, uploaded: list[str]) -> list[Step]:
    """The analyst's steps for a new turn in this container (None: no code tool was offered)."""
    if workdir is None:
        return [
            Text(
                "I can't run code in this conversation. Add the code execution tool "
                f"(`{TOOL_HINT}`) to `tools`, attach a table with a `container_upload` block, and I'll analyse it."
            )
        ]
    tables = tabular_files(workdir, uploaded)
    if not tables:
        return _no_table_script(workdir)
    previous = [p for p in (workdir / OUTPUTS).iterdir() if p.is_file()]
    if previous:
        return _followup_script(tables[0], question)
    return _first_look_script(tables[0], tables[1:], question)


def held_default_script(
    question: str, uploaded: list[str], gate: threading.Event, timeout: float = 120.0
) -> list[Step]:
    """The default script, held after its opening sentence until `gate` is set (to act on a run mid-way)."""

    def part(turn: Turn, first: bool) -> list[Step]:
        workdir = turn.container.workdir if turn.container is not None else None
        steps = default_script(workdir, question, uploaded)
        if first:
            return steps[:1]
        gate.wait(timeout)
        return steps[1:]

    return [Later(lambda turn: part(turn, True)), Later(lambda turn: part(turn, False))]


def _first_look_script(table: Path, others: list[Path], question: str) -> list[Step]:
    name, stem = table.name, _stem(table)
    kind = question_kind(question) or "auto"
    plan = {
        "trend": "then chart how the numbers move over time",
        "anomaly": "then look for outliers",
        "correlation": "then check which columns move together",
        "distribution": "then chart the distributions",
        "auto": "then chart the main columns",
    }[kind]
    loader = _load(name)
    return [
        Text(f"I'll load `{name}` with pandas, profile its columns and missing values, {plan}."),
        Python(loader + PROFILE),
        Python(loader + CHART.format(kind=kind, stem=stem) + SUMMARY.format() + FINDING),
        Later(lambda turn: [Text(_first_look_summary(turn, name, others))]),
    ]


def _followup_script(table: Path, question: str) -> list[Step]:
    name, stem = table.name, _stem(table)
    kind = question_kind(question) or "correlation"
    code = _load(name) + CHART.format(kind=kind, stem=stem) + FINDING
    return [
        Text("Let me check what is already in `outputs/` from the earlier analysis."),
        Bash("ls -la outputs"),
        Later(
            lambda turn: [
                Text(f"{_count_listed(turn.stdout)} earlier file(s) are still there. Now a closer look at `{name}`.")
            ]
        ),
        Python(code),
        Later(lambda turn: [Text(_followup_summary(turn, name))]),
    ]


def _no_table_script(workdir: Path) -> list[Step]:
    def answer(turn: Turn) -> list[Step]:
        names = sorted(p.name for p in workdir.iterdir() if p.is_file())
        listed = ", ".join(f"`{n}`" for n in names) if names else "no files"
        return [
            Text(
                f"I found {len(names)} file(s) in the working directory ({listed}), but none of them is a "
                "table. Upload a CSV, TSV, Excel, JSON or Parquet file and ask again."
            )
        ]

    return [Text("Let me see which files I have to work with."), Bash("ls -la"), Later(answer)]


def _load(name: str) -> str:
    return LOADER + f"\nPATH = {name!r}\ndf = load_table(PATH)\n"


def _stem(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "data"


def _field(stdout: str, label: str) -> str | None:
    match = re.search(rf"^{label}: (.*)$", stdout, re.MULTILINE)
    return match.group(1).strip() if match else None


def _failure(turn: Turn, name: str) -> str:
    errors = [r.stderr.strip().splitlines()[-1] for r in turn.records if r.stderr.strip() and r.return_code]
    why = errors[-1] if errors else "the code did not finish"
    return f"I couldn't finish the analysis of `{name}`: {why}"


def _first_look_summary(turn: Turn, name: str, others: list[Path]) -> str:
    out = turn.stdout
    rows, cols = _field(out, "Rows"), _field(out, "Columns")
    if rows is None or cols is None:
        return _failure(turn, name)
    parts = [f"`{name}` has **{_plural(int(rows), 'row')}** and **{_plural(int(cols), 'column')}**."]
    missing = _field(out, "Most missing")
    if missing and not missing.startswith("none"):
        column, _, detail = missing.partition(" (")
        parts.append(f"The column with the most missing values is `{column}` ({detail}.")
    else:
        parts.append("No values are missing.")
    if finding := _field(out, "Finding"):
        parts.append(finding)
    saved = [x for x in (_field(out, "Saved chart"), _field(out, "Saved summary")) if x]
    if saved:
        parts.append("I saved " + " and ".join(f"`{s}`" for s in saved) + " to `outputs/`.")
    if others:
        parts.append("Other tables I did not look at yet: " + ", ".join(f"`{p.name}`" for p in others) + ".")
    return " ".join(parts)


def _followup_summary(turn: Turn, name: str) -> str:
    out = turn.records[-1].stdout if turn.records else ""
    chart, finding = _field(out, "Saved chart"), _field(out, "Finding")
    if chart is None:
        return _failure(turn, name)
    return " ".join(x for x in (finding, f"The new chart is `{chart}` in `outputs/`.") if x)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _count_listed(stdout: str) -> int:
    return sum(1 for line in stdout.splitlines() if line.startswith("-"))
