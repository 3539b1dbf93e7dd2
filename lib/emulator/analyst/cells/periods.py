"""Helpers of the analyses over time: the period the dates come in, and each value against its neighbours."""

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
