"""The drivers analysis: what goes with an outcome, ranked by strength of association, with possible
confounding."""

DRIVERS = """\
y = pd.to_numeric(df[TARGET], errors="coerce")
rows = []
for col in FACTORS:  # numbers: the correlation with the outcome
    r = df[col].corr(y)
    if pd.notna(r):
        rows.append((col, "number", r, abs(r), f"r = {r:+.2f}"))
for col in CATEGORIES:  # categories: the correlation ratio (how much of the outcome's spread the groups explain)
    known = df[col].notna() & y.notna()
    means = y[known].groupby(df.loc[known, col]).transform("mean")
    spread = ((y[known] - y[known].mean()) ** 2).sum()
    if spread > 0 and df.loc[known, col].nunique() > 1:
        eta = float(np.sqrt(((means - y[known].mean()) ** 2).sum() / spread))
        rows.append((col, "category", eta, eta, f"η = {eta:.2f}"))
ranking = pd.DataFrame(rows, columns=["factor", "kind", "association", "strength", "written"])
ranking = ranking.sort_values("strength", ascending=False, ignore_index=True)
table = output_path(f"{STEM}_drivers", ".csv")
ranking.drop(columns="written").to_csv(table, index=False)
print(f"Saved table: {os.path.basename(table)}")

top = ranking.head(10)
colour = {"number": "#1f77b4", "category": "#ff7f0e"}
fig, ax = plt.subplots(figsize=(8, 0.45 * len(top) + 1.6))
ax.barh(top["factor"][::-1], top["association"][::-1], color=[colour[k] for k in top["kind"][::-1]])
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xlabel(f"association with {TARGET} (r for numbers, η for categories)")
ax.set_title(f"What goes with {TARGET}, strongest first")
ax.grid(axis="x", alpha=0.3)

if WHY:
    findings.append(WHY)
listed = ", ".join(f"`{f}` ({w})" for f, w in zip(ranking["factor"][:5], ranking["written"][:5]))
findings.append(f"Ranked by strength of association with `{TARGET}`: {listed}.")
binary = set(y.dropna().unique()) <= {0, 1}
shown = [c for c in NAMED if c in CATEGORIES] or [f for f, k in zip(ranking["factor"], ranking["kind"]) if k == "category"][:1]
for col in shown:
    rate = y.groupby(df[col]).mean().sort_values(ascending=False)
    values = "; ".join(f"{k} {v:.1%}" if binary else f"{k} {fmt(v)}" for k, v in rate.items())
    findings.append(f"`{TARGET}` (mean{', the share of 1s' if binary else ''}) by `{col}`: {values}.")
n = int(y.notna().sum())
findings.append(
    f"Confidence: with {n:,} rows, an association above {2 / np.sqrt(max(n, 1)):.2f} is unlikely to be chance, "
    "but these are associations in this data, not causes."
)
numbers = [f for f, k in zip(ranking["factor"][:6], ranking["kind"][:6]) if k == "number"]
categories = [f for f, k in zip(ranking["factor"][:6], ranking["kind"][:6]) if k == "category"]
pairs = [(a, b, abs(df[a].corr(df[b]))) for i, a in enumerate(numbers) for b in numbers[i + 1:]]
for c in categories:
    for a in numbers:
        known = df[[a, c]].dropna()
        total = ((known[a] - known[a].mean()) ** 2).sum()
        if total > 0:
            between = ((known.groupby(c)[a].transform("mean") - known[a].mean()) ** 2).sum()
            pairs.append((a, c, float(np.sqrt(between / total))))
tangled = sorted((p for p in pairs if p[2] >= 0.5), key=lambda p: -p[2])
if tangled:
    findings.append(
        "Possible confounding: " + "; ".join(f"`{a}` and `{b}` move together ({s:.2f})" for a, b, s in tangled[:3])
        + ", so one may stand in for the other."
    )
else:
    findings.append("None of the top factors move together strongly, so they are unlikely to stand in for each other.")

vl_data = top[["factor", "kind", "association"]]
vl_view = dict(
    title=f"What goes with {TARGET}, strongest first",
    autosize=dict(type="pad"),
    width=500,
    height=max(120, 28 * len(top)),
    mark=dict(type="bar", tooltip=True),
    encoding=dict(
        y=dict(field="factor", type="nominal", sort=list(top["factor"]), title=None),
        x=dict(field="association", type="quantitative", title=f"association with {TARGET} (r for numbers, η for categories)"),
        color=dict(field="kind", type="nominal", scale=dict(domain=list(colour), range=list(colour.values())), title=None),
        tooltip=[dict(field="factor"), dict(field="kind"), dict(field="association", type="quantitative", format="+.2f")],
    ),
)
"""
