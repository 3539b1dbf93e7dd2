"""The anomaly analysis: values far from their neighbours in their series (or from their column's median), the
worst saved as a table, and checks for impossible values."""

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
