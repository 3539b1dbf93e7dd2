"""Python cells the demo analyst really runs in the container: load, profile, chart, summarise."""

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

SHAPE = """\
print(f"Rows: {len(df)}")
print(f"Columns: {df.shape[1]}")
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
        vl_data = series[cols].reset_index().melt(id_vars="_when", var_name="column", value_name="value")
        vl_view = dict(
            title=f"{{', '.join(map(str, cols))}} over {{date_col}}",
            mark=dict(type="line", point=True, tooltip=True),
            encoding=dict(
                x=dict(field="_when", type="temporal", title=str(date_col)),
                y=dict(field="value", type="quantitative", title=None),
                row=dict(field="column", type="nominal", title=None),
            ),
            width=600,
            height=120,
            resolve=dict(scale=dict(y="independent")),
        )
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
        named = corr.set_axis([str(c) for c in corr.columns], axis=1).set_axis([str(c) for c in corr.index])
        vl_data = named.rename_axis("column_a").reset_index().melt(
            id_vars="column_a", var_name="column_b", value_name="r"
        )
        vl_view = dict(
            title="Correlation between numeric columns",
            mark=dict(type="rect", tooltip=True),
            encoding=dict(
                x=dict(field="column_b", type="nominal", sort=None, title=None),
                y=dict(field="column_a", type="nominal", sort=None, title=None),
                color=dict(
                    field="r", type="quantitative", scale=dict(domain=[-1, 1], scheme="redblue", reverse=True)
                ),
            ),
        )
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
        vl_data = z[cols].melt(var_name="column", value_name="z").dropna()
        vl_view = dict(
            title="Values beyond 3 standard deviations",
            mark=dict(type="boxplot", extent=1.5),
            encoding=dict(
                x=dict(field="column", type="nominal", sort=None, title=None),
                y=dict(field="z", type="quantitative", title="z-score"),
            ),
        )
    elif num.empty:
        col = df.columns[0]
        counts = df[col].astype(str).value_counts().head(15)
        fig, ax = plt.subplots(figsize=(8, 4.5))
        counts[::-1].plot.barh(ax=ax)
        ax.set_title(f"Most common values of {{col}}")
        finding = f"The most common `{{col}}` is {{counts.index[0]}} ({{int(counts.iloc[0])}} rows)."
        vl_data = counts.rename_axis("value").reset_index(name="count")
        vl_view = dict(
            title=f"Most common values of {{col}}",
            mark=dict(type="bar", tooltip=True),
            encoding=dict(
                y=dict(field="value", type="nominal", sort="-x", title=str(col)),
                x=dict(field="count", type="quantitative", title="rows"),
            ),
        )
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
        vl_data = num[cols].melt(var_name="column", value_name="value").dropna()
        vl_view = dict(
            title="Distribution of numeric columns",
            mark=dict(type="bar", color="#4C72B0", tooltip=True),
            encoding=dict(
                x=dict(field="value", type="quantitative", bin=dict(maxbins=20), title=None),
                y=dict(aggregate="count", type="quantitative", title="rows"),
                facet=dict(field="column", type="nominal", columns=ncols, title=None),
            ),
            width=220,
            height=150,
            resolve=dict(scale=dict(x="independent", y="independent")),
        )
    fig.tight_layout()
    fig.savefig(chart, dpi=100)
except Exception as exc:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.text(0.5, 0.5, f"Could not draw a {{kind}} chart:\\n{{exc}}", ha="center", va="center")
    ax.axis("off")
    fig.savefig(chart, dpi=100)
    finding = f"The {{kind}} chart failed ({{exc}}), so I saved a placeholder."
    vl_data = pd.DataFrame(dict(message=[f"Could not draw a {{kind}} chart: {{exc}}"]))
    vl_view = dict(mark=dict(type="text"), encoding=dict(text=dict(field="message", type="nominal")))
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

# The same chart as a Vega-Lite v5 spec beside the PNG, its data inline (plain json, no plotting library).
VEGA_LITE = """\
import json

MAX_VALUES = 5000
spec_path = chart[: -len(".png")] + ".vl.json"
if len(vl_data) > MAX_VALUES:
    vl_data = vl_data.sample(MAX_VALUES, random_state=0).sort_index()
spec = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": json.loads(vl_data.to_json(orient="records", date_format="iso"))},
    **vl_view,
}
with open(spec_path, "w", encoding="utf-8") as f:
    json.dump(spec, f, indent=1)
print(f"Saved spec: {os.path.basename(spec_path)}")
"""
