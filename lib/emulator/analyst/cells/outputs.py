"""What every analysis cell opens with (the outputs folder, the chart's path, the list of findings) and ends with:
the chart saved as a PNG and as a Vega-Lite spec, the first look's summary table, the findings printed."""

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
