"""The analysis cells the demo analyst runs after the profile: a trend over time, drivers of an outcome, unusual
values, the rows with the largest value, distributions, correlations and value counts. Each takes its choices as
plain assignments the plan writes above it, and draws its chart twice from the same numbers (lib.emulator.analyst.cells:
SAVE_PNG and VEGA_LITE follow it)."""

# periods the dates can be grouped by, with their pandas code, length in days and how a period is written
PERIODS = """\
PERIODS = [
    ("hour", "h", 1 / 24, "%Y-%m-%d %H:00"),
    ("day", "D", 1, "%Y-%m-%d"),
    ("week", "W", 7, "week of %Y-%m-%d"),
    ("month", "M", 30.5, "%Y-%m"),
    ("quarter", "Q", 91.5, "%Y-%m"),
    ("year", "Y", 365.25, "%Y"),
]


def time_period(when, max_points=400):
    \"\"\"The period the dates come in (their usual spacing), coarser until at most `max_points` periods remain.\"\"\"
    days = when.drop_duplicates().sort_values().diff().dt.total_seconds().median() / 86400
    i = next((i for i, p in enumerate(PERIODS) if days <= p[2] * 1.5), len(PERIODS) - 1)
    while i < len(PERIODS) - 1 and when.dt.to_period(PERIODS[i][1]).nunique() > max_points:
        i += 1
    return PERIODS[i]


def neighbour_z(long, by):
    \"\"\"Each value against the median of the two before and the two after it in its series, in robust standard
    deviations of its measure (1.4826 times the median absolute deviation); a measure that is always positive is
    compared by ratio, so a 10% jump counts the same at 5 as at 500.\"\"\"
    parts = []
    for _, part in long.groupby(by, sort=False):
        part = part.sort_values("_when")
        around = pd.concat([part["value"].shift(k) for k in (-2, -1, 1, 2)], axis=1).median(axis=1)
        parts.append(part.assign(expected=around))
    long = pd.concat(parts)
    positive = long.groupby("measure")["value"].transform("min") > 0
    resid = (np.log(long["value"] / long["expected"])).where(positive, long["value"] - long["expected"])
    scale = resid.groupby(long["measure"]).transform(lambda r: 1.4826 * (r - r.median()).abs().median())
    return long.assign(z=resid / scale.replace(0, np.nan))

"""

TREND = """\
when = pd.to_datetime(df[DATE], errors="coerce", format="mixed")
frame = df.assign(_when=when).dropna(subset=["_when"]).dropna(subset=list(MEASURES), how="all")
if SINCE:
    frame = frame[frame["_when"] >= pd.Timestamp(SINCE)]
period, code, _, written = time_period(frame["_when"])
frame["_when"] = frame["_when"].dt.to_period(code).dt.to_timestamp()
keys = ["_when"] + ([GROUP] if GROUP else [])
# each measure added up per period (and group) as its kind asks: a total (sum) or an average (mean)
series = frame.groupby(keys)[list(MEASURES)].agg(MEASURES).reset_index()
names = list(MEASURES)
label = {m: f"{m} ({MEASURES[m]} per {period})" for m in names}
long = series.melt(id_vars=keys, value_vars=names, var_name="measure", value_name="value").dropna(subset=["value"])
if GROUP:
    long[GROUP] = long[GROUP].astype(str)
long = neighbour_z(long, ["measure"] + ([GROUP] if GROUP else []))
worst = long.loc[long["z"].abs().idxmax()] if long["z"].notna().any() else None
long["flagged"] = False
if FLAG and worst is not None:
    long.loc[worst.name, "flagged"] = True
groups = sorted(long[GROUP].unique()) if GROUP else [None]
title = ", ".join(names) + f" per {period}" + (f" by {GROUP}" if GROUP else "")

fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.8 * len(names) + 0.6), sharex=True, squeeze=False)
colours = plt.get_cmap("tab10")
for ax, m in zip(axes[:, 0], names):
    for i, g in enumerate(groups):
        part = long[(long["measure"] == m) & ((long[GROUP] == g) if GROUP else True)].sort_values("_when")
        ax.plot(part["_when"], part["value"], marker=".", linewidth=1.2, color=colours(i % 10), label=g)
    hit = long[(long["measure"] == m) & long["flagged"]]
    ax.scatter(hit["_when"], hit["value"], s=120, facecolors="none", edgecolors="red", linewidths=1.5, zorder=3)
    ax.set_title(label[m], loc="left", fontsize=10)
    ax.set_yscale("log" if LOG else "linear")
    ax.grid(alpha=0.3)
if GROUP:
    axes[0, 0].legend(title=GROUP, fontsize=8, ncol=min(len(groups), 6))
axes[-1, 0].set_xlabel(str(DATE))
fig.suptitle(title)

for m in names[:3]:
    if GROUP:
        changes = []
        for g in groups:
            part = long[(long["measure"] == m) & (long[GROUP] == g)].sort_values("_when")
            if len(part) > 1:
                first, last = part["value"].iloc[0], part["value"].iloc[-1]
                changes.append((g, first, last, (last - first) / abs(first) * 100 if first else 0.0))
        changes.sort(key=lambda c: -abs(c[3]))
        listed = "; ".join(f"{g} {fmt(a)} → {fmt(b)} ({p:+.1f}%)" for g, a, b, p in changes[:6])
        findings.append(f"`{m}` ({MEASURES[m]} per {period}) by `{GROUP}`, first to last {period}: {listed}.")
        if len(changes) > 1:
            findings.append(f"`{changes[0][0]}` changed the most: {fmt(changes[0][2] - changes[0][1])} over the period.")
    else:
        part = long[long["measure"] == m].sort_values("_when")
        first, last = part.iloc[0], part.iloc[-1]
        change = f" ({(last.value - first.value) / abs(first.value) * 100:+.1f}%)" if first.value else ""
        top, low = part.loc[part["value"].idxmax()], part.loc[part["value"].idxmin()]
        findings.append(
            f"`{m}` ({MEASURES[m]} per {period}) went from {fmt(first.value)} in {first['_when']:{written}} to "
            f"{fmt(last.value)} in {last['_when']:{written}}{change}; highest {fmt(top.value)} in "
            f"{top['_when']:{written}}, lowest {fmt(low.value)} in {low['_when']:{written}}."
        )
first_measure = long[long["measure"] == names[0]]
if period == "month" and first_measure["_when"].dt.year.nunique() >= 2:
    total = first_measure.groupby("_when")["value"].agg(MEASURES[names[0]])
    level = total / total.rolling(12, center=True, min_periods=6).mean()
    by_month = level.groupby(level.index.month).mean()
    if by_month.max() - by_month.min() > 0.05:
        month = lambda n: pd.Timestamp(2000, n, 1).strftime("%B")
        findings.append(
            f"Seasonality in `{names[0]}`: highest in {month(by_month.idxmax())} "
            f"({(by_month.max() - 1) * 100:+.0f}% against the 12-month average), lowest in "
            f"{month(by_month.idxmin())} ({(by_month.min() - 1) * 100:+.0f}%)."
        )
if FLAG and worst is not None:
    where = f" in {worst[GROUP]}" if GROUP else ""
    findings.append(
        f"The {period} that stands out most is {worst['_when']:{written}}{where}: `{worst.measure}` "
        f"({MEASURES[worst.measure]}) {fmt(worst.value)} against about {fmt(worst.expected)} from the {period}s "
        f"around it ({(worst.value - worst.expected) / abs(worst.expected) * 100:+.1f}%), circled in red."
    )

axis_format = {"hour": "%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m"}.get(period, "%Y")
line = dict(
    mark=dict(type="line", point=True, **({} if GROUP else dict(color="#1f77b4"))),
    encoding=dict(
        x=dict(field="_when", type="temporal", title=str(DATE)),
        y=dict(field="value", type="quantitative", title=None, scale=dict(zero=False, type="log" if LOG else "linear")),
        tooltip=[
            dict(field="_when", type="temporal", title=period, format=axis_format),
            dict(field="measure", type="nominal"),
            dict(field="value", type="quantitative", format=",.2f"),
        ] + ([dict(field=GROUP, type="nominal")] if GROUP else []),
        **({"color": dict(field=GROUP, type="nominal", scale=dict(domain=groups, scheme="category10"),
                          legend=dict(orient="top"))} if GROUP else {}),
    ),
)
circled = dict(
    transform=[dict(filter="datum.flagged")],
    mark=dict(type="point", color="red", size=220, strokeWidth=2.5, opacity=1, filled=False),
    encoding=dict(x=dict(field="_when", type="temporal"), y=dict(field="value", type="quantitative")),
)
vl_data = long.assign(measure=long["measure"].map(label))[keys + ["measure", "value", "flagged"]]
vl_view = dict(
    title=title,
    facet=dict(row=dict(field="measure", type="nominal", sort=[label[m] for m in names],
                        header=dict(title=None, labelAngle=0, labelOrient="top", labelAnchor="start"))),
    spec=dict(width=600, height=150, layer=[line, circled]),
    resolve=dict(scale=dict(y="independent")),
)
"""

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

ANOMALY = """\
if DATE:  # measurements over time: each value against its neighbours in its own series
    when = pd.to_datetime(df[DATE], errors="coerce", format="mixed")
    frame = df.assign(_when=when).dropna(subset=["_when"])
    keys = SERIES + ["_when"]
    frame = frame.groupby(keys)[MEASURES].agg(AGG).reset_index()  # one value per series and date
    long = frame.melt(id_vars=keys, value_vars=MEASURES, var_name="measure", value_name="value").dropna(subset=["value"])
    long = neighbour_z(long, SERIES + ["measure"])
    written = time_period(long["_when"])[3]
    parts = [long[s].astype(str) for s in SERIES] + [long["_when"].dt.strftime(written)]
    long["case"] = parts[0].str.cat(parts[1:], sep=" · ") if len(parts) > 1 else parts[0]
else:  # one row per item: each value against its column's median
    keys = IDS
    long = df.reset_index(names="_row").melt(
        id_vars=["_row"] + IDS, value_vars=MEASURES, var_name="measure", value_name="value"
    ).dropna(subset=["value"])
    long["expected"] = long.groupby("measure")["value"].transform("median")
    mad = (long["value"] - long["expected"]).abs().groupby(long["measure"]).transform("median") * 1.4826
    long["z"] = (long["value"] - long["expected"]) / mad.replace(0, np.nan)
    long["case"] = f"{IDS[0]} " + long[IDS[0]].astype(str) if IDS else "row " + (long["_row"] + 1).astype(str)
long = long.dropna(subset=["z"])
LIMIT = 3.5
worst = long.reindex(long["z"].abs().sort_values(ascending=False).index).head(10)
table = output_path(f"{STEM}_anomalies", ".csv")
worst[["case", "measure", "value", "expected", "z"]].round(2).to_csv(table, index=False)
print(f"Saved table: {os.path.basename(table)}")

if DATE:  # the worst case's series, its expected line and the values far from it
    head = worst.iloc[0]
    same = (long["measure"] == head.measure) & np.logical_and.reduce([long[s] == head[s] for s in SERIES] or [True])
    shown = long[same].sort_values("_when")
    name = " · ".join(str(head[s]) for s in SERIES) or "the whole table"
    title = f"{head.measure} ({AGG[head.measure]}) of {name}: values far from their neighbours in red"
    fig, ax = plt.subplots(figsize=(9, 3.8))
    ax.plot(shown["_when"], shown["value"], marker=".", linewidth=1.2, color="#1f77b4", label="value")
    ax.plot(shown["_when"], shown["expected"], linestyle="--", linewidth=1, color="grey", label="median of neighbours")
    far = shown[shown["z"].abs() >= LIMIT]
    ax.scatter(far["_when"], far["value"], color="red", s=50, zorder=3, label=f"beyond {LIMIT} robust SD")
    ax.set_ylabel(f"{head.measure} ({AGG[head.measure]})")
    ax.set_xlabel(str(DATE))
    ax.legend(fontsize=8)
    vl_data = shown[["_when", "value", "expected", "z"]].assign(far=shown["z"].abs() >= LIMIT)
    x = dict(field="_when", type="temporal", title=str(DATE))
    vl_view = dict(
        title=title, width=640, height=260, autosize=dict(type="pad"),
        layer=[
            dict(mark=dict(type="line", point=True, color="#1f77b4"), encoding=dict(
                x=x, y=dict(field="value", type="quantitative", title=f"{head.measure} ({AGG[head.measure]})", scale=dict(zero=False)),
                tooltip=[dict(field="_when", type="temporal", title=str(DATE)), dict(field="value", format=",.2f"),
                         dict(field="expected", format=",.2f"), dict(field="z", format="+.1f")])),
            dict(mark=dict(type="line", strokeDash=[4, 3], color="grey"), encoding=dict(x=x, y=dict(field="expected", type="quantitative"))),
            dict(transform=[dict(filter="datum.far")], mark=dict(type="point", filled=True, color="red", size=60),
                 encoding=dict(x=x, y=dict(field="value", type="quantitative"))),
        ],
    )
else:  # the worst cases side by side
    cases = worst["case"] + " · " + worst["measure"]
    title = "The most unusual values, in robust standard deviations from their column's median"
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(worst) + 1.6))
    ax.barh(cases[::-1], worst["z"][::-1], color=["red" if abs(z) >= LIMIT else "grey" for z in worst["z"][::-1]])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("robust standard deviations from the median")
    vl_data = worst.assign(case=cases, far=worst["z"].abs() >= LIMIT)[["case", "value", "z", "far"]]
    vl_view = dict(
        title=title, width=500, height=max(120, 28 * len(worst)), autosize=dict(type="pad"),
        mark=dict(type="bar"),
        encoding=dict(
            y=dict(field="case", type="nominal", sort=list(cases), title=None),
            x=dict(field="z", type="quantitative", title="robust standard deviations from the median"),
            color=dict(field="far", type="nominal", scale=dict(domain=[True, False], range=["red", "grey"]), legend=None),
            tooltip=[dict(field="case"), dict(field="value", type="quantitative", format=",.2f"), dict(field="z", format="+.1f")],
        ),
    )
ax.set_title(title, fontsize=10)

if len(worst):
    head = worst.iloc[0]
    against = "the values around it suggest" if DATE else "the column's median is"
    findings.append(
        f"The worst case is `{head.case}`: `{head.measure}` is {fmt(head.value)} where {against} about "
        f"{fmt(head.expected)} ({(head.value - head.expected) / abs(head.expected) * 100:+.1f}%, "
        f"{abs(head.z):.1f} robust standard deviations)." if head.expected else
        f"The worst case is `{head.case}`: `{head.measure}` is {fmt(head.value)} ({abs(head.z):.1f} robust standard deviations out)."
    )
far_count = int((long["z"].abs() >= LIMIT).sum())
findings.append(
    f"{far_count} value(s) lie more than {LIMIT} robust standard deviations out; the {len(worst)} worst are in "
    f"`{os.path.basename(table)}`."
)
negative = {m: int((df[m] < 0).sum()) for m in MEASURES if (df[m].dropna() >= 0).mean() > 0.95}
negative = {m: n for m, n in negative.items() if n}
checks = [f"{int(df.duplicated().sum())} duplicated row(s)"]
checks.append("negative values in " + ", ".join(f"`{m}` ({n})" for m, n in negative.items()) if negative else "no impossible (negative) values")
checks.append(f"{int(df[MEASURES].isna().sum().sum())} missing value(s) in the measures")
findings.append("Checks: " + "; ".join(checks) + ".")
"""

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

ANALYSES = {
    "trend": TREND,
    "drivers": DRIVERS,
    "anomaly": ANOMALY,
    "top": LOOKUP,
    "distribution": DISTRIBUTION,
    "correlation": CORRELATION,
    "values": VALUES,
}
NEEDS_PERIODS = {"trend", "anomaly"}
