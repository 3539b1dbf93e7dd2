"""The lookup analysis: the rows or groups with the largest (or smallest) value of a measure."""

LOOKUP = """\
ranked = df.dropna(subset=[MEASURE])
if LABEL and LABEL not in IDS:  # a category: rank its groups by their total or average
    top = ranked.groupby(LABEL)[MEASURE].agg(AGG).sort_values(ascending=not LARGEST).head(10)
    top = pd.DataFrame({"label": top.index.astype(str), "value": top.values})
    what = f"`{MEASURE}` ({AGG} over its rows)"
else:  # one row per item: rank the rows, named by their identifier
    ranked = ranked.sort_values(MEASURE, ascending=not LARGEST).head(10)
    names = ranked[LABEL].astype(str) if LABEL else [f"row {i + 1}" for i in ranked.index]
    top = pd.DataFrame({"label": list(names), "value": list(ranked[MEASURE])})
    what = f"`{MEASURE}`"
word = "largest" if LARGEST else "smallest"
table = output_path(f"{STEM}_{word}_{MEASURE}", ".csv")
top.rename(columns={"label": LABEL or "row", "value": MEASURE}).to_csv(table, index=False)
print(f"Saved table: {os.path.basename(table)}")
who = f"`{LABEL}` {top['label'][0]}" if LABEL else top["label"][0]
rest = ", ".join(f"{a} ({fmt(b)})" for a, b in zip(top["label"][1:4], top["value"][1:4]))
findings.append(f"{who} has the {word} {what}: {fmt(top['value'][0])}." + (f" Next: {rest}." if rest else ""))

title = f"The {word} {MEASURE}" + (f" ({AGG})" if LABEL and LABEL not in IDS else "") + f" by {LABEL or 'row'}"
fig, ax = plt.subplots(figsize=(8, 0.45 * len(top) + 1.6))
ax.barh(top["label"][::-1], top["value"][::-1], color=["#d62728"] + ["#1f77b4"] * (len(top) - 1))
ax.set_xlabel(MEASURE)
ax.set_title(title)
vl_data = top.assign(answer=[True] + [False] * (len(top) - 1))
vl_view = dict(
    title=title, width=500, height=max(120, 28 * len(top)), autosize=dict(type="pad"),
    mark=dict(type="bar"),
    encoding=dict(
        y=dict(field="label", type="nominal", sort=list(top["label"]), title=LABEL or "row"),
        x=dict(field="value", type="quantitative", title=MEASURE),
        color=dict(field="answer", type="nominal", scale=dict(domain=[True, False], range=["#d62728", "#1f77b4"]), legend=None),
        tooltip=[dict(field="label", title=LABEL or "row"), dict(field="value", title=MEASURE, type="quantitative", format=",.2f")],
    ),
)
"""
