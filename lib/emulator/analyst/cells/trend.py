"""The trend analysis: each measure added up per period (and group), its change, seasonality, and the period that
stands out most."""

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
