"""Analyses that describe the columns: the measures' distributions, their correlations, a column's commonest
values."""

DISTRIBUTION = """\
cols = list(MEASURES)[:9]
ncols = min(3, len(cols))
nrows = -(-len(cols) // ncols)
fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows + 0.6), squeeze=False)
bins = []
for ax, col in zip(axes.flat, cols):
    counts, edges = np.histogram(df[col].dropna(), bins=20)
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#1f77b4", edgecolor="white")
    ax.set_title(str(col))
    bins += [dict(column=str(col), start=a, end=b, rows=int(n)) for a, b, n in zip(edges[:-1], edges[1:], counts)]
for ax in list(axes.flat)[len(cols):]:
    ax.axis("off")
fig.suptitle("Distribution of the measures (rows per bin)")
for col in cols[:3]:
    values = df[col].dropna()
    findings.append(
        f"`{col}`: mean {fmt(values.mean())}, median {fmt(values.median())}, range {fmt(values.min())} to "
        f"{fmt(values.max())}."
    )
surprises = []
for col in cols:
    values = df[col].dropna()
    mad = 1.4826 * (values - values.median()).abs().median()
    far = values[(values - values.median()).abs() > 5 * mad] if mad else values.iloc[:0]
    if len(far) and values.nunique() > 5:
        surprises.append((len(far), f"`{col}` ({len(far)}, up to {fmt(far.max())})"))
if surprises:
    listed = ", ".join(text for _, text in sorted(surprises, key=lambda s: -s[0])[:3])
    findings.append(f"Surprising: values far from the rest (beyond 5 robust standard deviations) in {listed}.")
vl_data = pd.DataFrame(bins)
vl_view = dict(
    title="Distribution of the measures (rows per bin)",
    mark=dict(type="bar", color="#1f77b4", stroke="white"),
    encoding=dict(
        x=dict(field="start", type="quantitative", bin=dict(binned=True), title=None),
        x2=dict(field="end"),
        y=dict(field="rows", type="quantitative", title="rows"),
        facet=dict(field="column", type="nominal", columns=ncols, sort=[str(c) for c in cols], title=None),
        tooltip=[dict(field="start", format=",.2f"), dict(field="end", format=",.2f"), dict(field="rows")],
    ),
    width=220,
    height=150,
    resolve=dict(scale=dict(x="independent", y="independent")),
)
"""

CORRELATION = """\
corr = df[list(MEASURES)].corr()
names = [str(c) for c in corr.columns]
size = 0.7 * len(names) + 3
fig, ax = plt.subplots(figsize=(size + 1.2, size))
im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
ax.set_yticks(range(len(names)), names)
for i in range(len(names)):
    for j in range(len(names)):
        if pd.notna(corr.iat[i, j]):
            ax.text(j, i, f"{corr.iat[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(corr.iat[i, j]) > 0.6 else "black")
fig.colorbar(im, ax=ax)
ax.set_title("Correlation between the measures")
pairs = corr.where(np.triu(np.ones(corr.shape, dtype=bool), k=1)).stack()
if len(pairs):
    a, b = pairs.abs().idxmax()
    findings.append(f"The strongest relationship is between `{a}` and `{b}` (r = {pairs[(a, b)]:.2f}).")
vl_data = corr.set_axis(names, axis=1).set_axis(names).rename_axis("row").reset_index().melt(
    id_vars="row", var_name="column", value_name="r"
)
axis = dict(type="nominal", sort=names, title=None)
vl_view = dict(
    title="Correlation between the measures",
    autosize=dict(type="pad"),  # the size is the cells' own, with the labels around them
    width=44 * len(names),  # square cells, as in the PNG
    height=44 * len(names),
    encoding=dict(
        x=dict(field="column", **axis, axis=dict(labelAngle=-45, labelLimit=200, labelOverlap=False)),  # as the PNG
        y=dict(field="row", **axis, axis=dict(labelLimit=200, labelOverlap=False)),
    ),
    layer=[
        dict(mark=dict(type="rect", tooltip=True), encoding=dict(
            color=dict(field="r", type="quantitative", scale=dict(domain=[-1, 1], scheme="redblue", reverse=True)),
            tooltip=[dict(field="row"), dict(field="column"), dict(field="r", type="quantitative", format=".2f")])),
        dict(mark=dict(type="text", fontSize=11), encoding=dict(
            text=dict(field="r", type="quantitative", format=".2f"),
            color=dict(condition=dict(test="abs(datum.r) > 0.6", value="white"), value="black"))),
    ],
)
"""

VALUES = """\
col = COLUMN
counts = df[col].astype(str).value_counts().head(15)
fig, ax = plt.subplots(figsize=(8, 4.5))
counts[::-1].plot.barh(ax=ax, color="#1f77b4")
ax.set_xlabel("rows")
ax.set_title(f"Most common values of {col}")
findings.append(f"The most common `{col}` is {counts.index[0]} ({int(counts.iloc[0])} rows).")
vl_data = counts.rename_axis("value").reset_index(name="count")
vl_view = dict(
    title=f"Most common values of {col}",
    mark=dict(type="bar", color="#1f77b4", tooltip=True),
    encoding=dict(
        y=dict(field="value", type="nominal", sort=list(counts.index), title=str(col)),
        x=dict(field="count", type="quantitative", title="rows"),
    ),
)
"""
