"""Python cells the demo analyst really runs in the container: load and profile a table, then what every analysis
cell shares (its setup, saving the chart and its Vega-Lite spec, the summary and the findings); the analyses
themselves are in lib.emulator.analyst.analyses.

Every cell starts with LOADER (each runs in a fresh interpreter). The analysis cells take their choices (which
columns, how to add them up) as plain assignments the plan writes above them, so a reader sees what was chosen.
Each chart is drawn twice from the same numbers, as a PNG and as a Vega-Lite spec, in the same order and scale.
"""

from .known import ADDITIVE, ID_NAME, PER_ITEM

LOADER = '''\
import csv, io, json, os, re, warnings
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
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    try:
        sep = csv.Sniffer().sniff("\\n".join(lines[:200]), delimiters=",;\\t|").delimiter
    except csv.Error:
        sep = "\\t" if ext in (".tsv", ".tab") else ","
    # decimal commas (1,5) go with semicolon-separated files
    decimal = "," if sep == ";" and re.search(r"\\d,\\d", "\\n".join(lines[1:50])) else "."
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, comment="#")
    except pd.errors.ParserError:
        return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, comment="#", engine="python", on_bad_lines="skip")


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


# a name that identifies rather than measures (order_id, id, customer key); such a column is never added up
ID_NAME = re.compile(@ID_NAME@, re.IGNORECASE)
# measures that add up over rows (units, revenue) as opposed to ones that are averaged (prices, rates, levels)
ADDITIVE = re.compile(@ADDITIVE@, re.I)
PER_ITEM = re.compile(@PER_ITEM@, re.I)


def how_to_add_up(col):
    """'sum' for a measure whose rows add up to a total, else 'mean'."""
    return "sum" if ADDITIVE.search(str(col)) and not PER_ITEM.search(str(col)) else "mean"


def column_roles(df):
    """The date column, identifiers (never measures), categories to group by (with their number of values),
    measures with how each adds up, and which measures are yes/no (0/1)."""
    date = find_date_column(df)
    roles = {"date": date, "ids": [], "categories": {}, "measures": {}, "binary": []}
    for col in df.columns:
        values = df[col].dropna()
        if col == date or values.empty:
            continue
        distinct = values.nunique() >= 0.95 * len(values)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if distinct and (ID_NAME.search(str(col)) or (not numeric and len(values) > 20)):
            roles["ids"].append(str(col))
        elif numeric and not ID_NAME.search(str(col)):
            roles["measures"][str(col)] = how_to_add_up(col)
            if set(values.unique()) <= {0, 1}:
                roles["binary"].append(str(col))
        elif values.nunique() <= 50:
            roles["categories"][str(col)] = int(values.nunique())
    return roles


def fmt(x):
    """A number as the answer writes it: thousands separated, whole numbers without decimals."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"

'''
# the container's names for what a column is, the same patterns the analyst reads a files note's profile with
for _name, _pattern in (("ID_NAME", ID_NAME), ("ADDITIVE", ADDITIVE), ("PER_ITEM", PER_ITEM)):
    LOADER = LOADER.replace(f"@{_name}@", repr(_pattern))

PROFILE = """\
print(f"File: {PATH}")
print(f"Rows: {len(df)}")
print(f"Columns: {df.shape[1]}")
print()
print("Column types:")
print(df.dtypes.to_string())
roles = column_roles(df)
measures = list(roles["measures"])
if measures:
    print()
    print("Summary statistics of the measures:")
    print(df[measures].describe().T.to_string())
print()
missing = df.isna().sum()
print("Missing values per column:")
print(missing.to_string())
gaps = missing[missing > 0].sort_values(ascending=False)
print("Missing: " + (", ".join(f"{c} ({n} of {len(df)})" for c, n in gaps.items()) or "none"))
empty = int(df[measures].isna().all(axis=1).sum()) if measures else 0
print(f"Rows without any measure: {empty}")
print(f"Duplicated rows: {int(df.duplicated().sum())}")
print()
print(f"Date column: {roles['date'] or 'none'}")
print("Identifiers (not measures): " + (", ".join(roles["ids"]) or "none"))
print("Categories: " + (", ".join(f"{c} ({n} values)" for c, n in roles["categories"].items()) or "none"))
print("Measures: " + (", ".join(f"{c} (adds up by {how})" for c, how in roles["measures"].items()) or "none"))
print("Column roles: " + json.dumps(roles))
"""

# the same roles on their own, for a follow-up that did not profile the table
ROLES = """\
roles = column_roles(df)
print(f"Rows: {len(df)}")
print("Column roles: " + json.dumps(roles))
"""

SETUP = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

out = os.environ.get("OUTPUT_DIR", "outputs")
os.makedirs(out, exist_ok=True)


def output_path(name, suffix):
    \"\"\"A new file in outputs/: name + suffix, or name_2 + suffix … when an earlier analysis saved one.\"\"\"
    path, n = os.path.join(out, name + suffix), 2
    while os.path.exists(path):
        path, n = os.path.join(out, f"{name}_{n}{suffix}"), n + 1
    return path


chart = output_path(f"{STEM}_{KIND}", ".png")
findings = []
"""

SUMMARY = """\
summary = pd.DataFrame({"dtype": df.dtypes.astype(str), "missing": df.isna().sum(), "unique": df.nunique()})
measures = list(column_roles(df)["measures"])
if measures:
    summary = summary.join(df[measures].describe().T[["mean", "std", "min", "max"]])
summary.index.name = "column"
summary_path = output_path(f"{STEM}_summary", ".csv")
summary.round(4).to_csv(summary_path)
print(f"Saved summary: {os.path.basename(summary_path)}")
"""

SAVE_PNG = """\
fig.tight_layout()
fig.savefig(chart, dpi=100)
plt.close("all")
print(f"Saved chart: {os.path.basename(chart)}")
"""

# The same chart as a Vega-Lite v5 spec beside the PNG, its data inline (plain json, no plotting library).
VEGA_LITE = """\
MAX_VALUES = 5000
spec_path = chart[: -len(".png")] + ".vl.json"
if len(vl_data) > MAX_VALUES:
    vl_data = vl_data.sample(MAX_VALUES, random_state=0).sort_index()
spec = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": json.loads(vl_data.round(4).to_json(orient="records", date_format="iso"))},
    **vl_view,
}
with open(spec_path, "w", encoding="utf-8") as f:
    json.dump(spec, f, indent=1)
print(f"Saved spec: {os.path.basename(spec_path)}")
"""

FINDINGS = """\
for finding in findings:
    print(f"Finding: {finding}")
"""

# a table's shape, printed where the files note's profile spared the profiling cell
SHAPE = """\
print(f"Rows: {len(df)}")
print(f"Columns: {df.shape[1]}")
"""
