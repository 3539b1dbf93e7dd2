"""The demo analyst's plans: profile the container's table, then answer the question with the analysis it asks for,
on the columns it names, chosen from what the profile found each column to be."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lib.emulator.script import OUTPUTS, Bash, Later, Progress, Python, Step, Text
from lib.files import kinds

from .analyses import ANALYSES, NEEDS_PERIODS, PERIODS
from .cells import FINDINGS, LOADER, PROFILE, ROLES, SAVE_PNG, SETUP, SHAPE, SUMMARY, VEGA_LITE
from .figures import figures_script
from .known import KnownTable, column_roles, known_table, split
from .reading import failure_reason, labelled
from .sources import source_script

# what the registry previews as a table, plus old Excel and JSON Lines, which pandas in the container also reads
TABULAR = {ext for k in kinds.KINDS if k.table or k.key in ("xls", "jsonl") for ext in k.extensions}
TOOL_HINT = '{"type": "code_execution_20260521", "name": "code_execution"}'

# what a question asks for, by its words (checked in this order: the first that matches decides)
ASKS = (
    ("correlation", r"correlat|relationship|move together"),
    ("drivers", r"\bdrives?\b|\bdriver|\bfactors?\b|affects?\b|influenc|\bexplain|\bpredict|\bwhy\b|\bcaus"),
    (
        "top",
        r"\b(which|what|who)\b[^?.!]*\b(largest|highest|biggest|most|maximum|max|smallest|lowest|least|minimum|min|fewest)\b",
    ),
    (
        "trend",
        r"trend|over time|time series|season|growth|turning point|\bdrift|(per|by|each|every) (month|week|day|year|quarter)",
    ),
    ("anomaly", r"anomal|outlier|unusual|\bodd\b|strange|spike|sudden|impossible|worst cases"),
    ("distribution", r"distribution|histogram|spread"),
)
SMALLEST = r"\b(smallest|lowest|least|minimum|min|fewest)\b"
ANOMALOUS = dict(ASKS)["anomaly"]
# words of column names too common to say a question names the column
COMMON_WORDS = {"data", "value", "values", "monthly", "daily", "weekly", "yearly", "total", "number", "count", "date"}
# names of outcome columns, for a 'drivers' question that names none
OUTCOME = re.compile(r"churn|target|label|outcome|revenue|sales|profit|price|amount|score|result|converted", re.I)
FILE_NAME = re.compile(r"\S+\.(csv|tsv|txt|xlsx?|xlsm|json|jsonl|parquet)\b", re.I)
MAX_SERIES_LEVELS = 30


@dataclass(frozen=True)
class Roles:
    """What the profile found each column of the table to be."""

    rows: int
    date: str | None = None
    ids: list[str] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)  # name -> number of values
    measures: dict[str, str] = field(default_factory=dict)  # name -> "sum" or "mean"
    binary: list[str] = field(default_factory=list)  # measures holding only 0 and 1


@dataclass(frozen=True)
class Analysis:
    """One analysis cell: its kind, the choices written above its code, and what the analyst says before it."""

    kind: str
    params: Mapping[str, object]
    intro: str


def plan(message: str, uploaded: list[str]) -> list[Step]:
    """The emulator's planner: look at the container (and any SQL sources the code may query) when the turn
    starts, then plan from what is there; `message` is the user message's text: the question, then the files
    note (whose table profiles spare the analyst its profiling cell)."""
    question, note = split(message)
    return [
        Later(lambda turn: source_script(turn, question) or default_script(_workdir(turn), question, uploaded, note))
    ]


def _workdir(turn: Progress) -> Path | None:
    return turn.container.workdir if turn.container is not None else None


def question_kind(question: str) -> str | None:
    """The analysis a question asks for, if any."""
    q = FILE_NAME.sub(" ", question.lower())
    return next((kind for kind, words in ASKS if re.search(words, q)), None)


def tabular_files(workdir: Path, preferred: list[str]) -> list[Path]:
    """Tables in the container, the ones uploaded with this request first, then newest."""
    found = [p for p in workdir.iterdir() if p.is_file() and p.suffix.lower() in TABULAR]
    found.sort(key=lambda p: (p.name not in preferred, -p.stat().st_mtime))
    return found


def default_script(workdir: Path | None, question: str, uploaded: list[str], note: str = "") -> list[Step]:
    """The analyst's steps for a new turn in this container (None: no code tool was offered); `note` is the
    request's files note."""
    if workdir is None:
        return [
            Text(
                "I can't run code in this conversation. Add the code execution tool "
                f"(`{TOOL_HINT}`) to `tools`, attach a table with a `container_upload` block, and I'll analyse it."
            )
        ]
    tables = tabular_files(workdir, uploaded)
    if not tables:
        return _no_table_script(workdir)
    if (figures := figures_script(tables[0], question, _load(tables[0].name))) is not None:
        return figures
    previous = [p for p in (workdir / OUTPUTS).iterdir() if p.is_file()]
    if previous:
        return _followup_script(tables[0], question)
    return _first_look_script(tables[0], tables[1:], question, known_table(note, tables[0].name))


def _first_look_script(table: Path, others: list[Path], question: str, known: KnownTable | None) -> list[Step]:
    name = table.name
    plan = {
        "trend": "then chart how the numbers move over time",
        "anomaly": "then look for unusual values",
        "correlation": "then check which columns move together",
        "drivers": "then rank what goes with the outcome",
        "top": "then rank the rows the question asks about",
        "distribution": "then chart the distributions",
    }.get(question_kind(question) or "", "then chart the main columns")
    if known is not None:  # the files note has the table's profile: no cell to find out its columns
        intro = (
            f"I'll load `{name}` with pandas; the profile sent with the question already gives its columns, their "
            f"types and missing values, so I'll go straight to the analysis: {plan[5:]}."
        )
        steps = _analysis_for(Roles(rows=known.rows, **column_roles(known)), table, question, first=True, shape=True)
        if steps and isinstance(steps[0], Text):  # one text before the cell, not two run together
            steps[0] = Text(f"{intro}\n\n{steps[0].text}")
        else:
            steps.insert(0, Text(intro))
        return [*steps, Later(lambda turn: [Text(_first_look_summary(turn, name, others, known))])]
    return [
        Text(f"I'll load `{name}` with pandas, profile its columns and missing values, {plan}."),
        Python(_load(name) + PROFILE),
        Later(lambda turn: _analysis_steps(turn, table, question, first=True)),
        Later(lambda turn: [Text(_first_look_summary(turn, name, others))]),
    ]


def _followup_script(table: Path, question: str) -> list[Step]:
    name = table.name
    return [
        Text("Let me check what is already in `outputs/` from the earlier analysis."),
        Bash("ls -la outputs"),
        Later(
            lambda turn: [
                Text(f"{_count_listed(turn.stdout)} earlier file(s) are still there. Now a closer look at `{name}`.")
            ]
        ),
        Python(_load(name) + ROLES),
        Later(lambda turn: _analysis_steps(turn, table, question, first=False)),
        Later(lambda turn: [Text(_followup_summary(turn, name))]),
    ]


def _analysis_steps(turn: Progress, table: Path, question: str, first: bool) -> list[Step]:
    """The analysis cell, chosen from the question and the roles the profile printed."""
    found = read_roles(turn.stdout)
    if found is None:  # the profile failed: the summary says why
        return []
    return _analysis_for(found, table, question, first)


def _analysis_for(roles: Roles, table: Path, question: str, first: bool, shape: bool = False) -> list[Step]:
    """The analysis cell for a table whose columns' roles are known (printing its shape first, with `shape`)."""
    if roles.rows == 0:
        return [Text(f"`{table.name}` has no data rows, so there is nothing to chart.")]
    chosen = choose(question, roles, first)
    if chosen is None:
        return [Text(f"`{table.name}` has no column I can chart.")]
    code = (
        _load(table.name)
        + (SHAPE if shape else "")
        + _header({"STEM": _stem(table), "KIND": chosen.kind, **chosen.params})
        + SETUP
    )
    if chosen.kind in NEEDS_PERIODS:
        code += PERIODS
    code += ANALYSES[chosen.kind] + SAVE_PNG + VEGA_LITE + (SUMMARY if first else "") + FINDINGS
    return [Text(chosen.intro), Python(code)]


def read_roles(stdout: str) -> Roles | None:
    """The roles a profile cell printed (`Column roles: {json}`), or None when it printed none."""
    rows, line = labelled(stdout, "Rows"), labelled(stdout, "Column roles")
    if rows is None or line is None:
        return None
    data = json.loads(line)
    return Roles(
        rows=int(rows),
        date=data.get("date"),
        ids=list(data.get("ids", [])),
        categories=dict(data.get("categories", {})),
        measures=dict(data.get("measures", {})),
        binary=list(data.get("binary", [])),
    )


def named_columns(question: str, columns: list[str]) -> list[str]:
    """The columns a question names, in the order it names them: by the whole name (`order_id`, `plan tier`)
    or by a distinctive word of it (`churn` for `churned`, `temperature` for `temperature_c`)."""
    q = _plain(FILE_NAME.sub(" ", question))
    found = []
    for col in columns:
        plain = _plain(col)
        if not plain:
            continue
        whole = re.search(rf"(^| ){re.escape(plain)}( |$)", q)
        if whole:
            found.append((whole.start(), col))
            continue
        words = [w for w in plain.split() if len(w) >= 4 and w not in COMMON_WORDS]
        hits = [m.start() for w in words if (m := re.search(rf"(^| ){re.escape(_word_stem(w))}", q))]
        if hits:
            found.append((min(hits), col))
    return [col for _, col in sorted(found)]


def choose(question: str, roles: Roles, first: bool) -> Analysis | None:
    """The analysis that answers the question on this table, falling back to what the table allows."""
    q = question.lower()
    measures = list(roles.measures)
    named = named_columns(question, measures + list(roles.categories) + roles.ids)
    named_measures = [c for c in named if c in roles.measures]
    named_labels = [c for c in named if c in roles.categories or c in roles.ids]
    kind = question_kind(question) or ("trend" if first else "correlation")
    if kind == "top" and not named_measures:
        kind = "distribution"
    if kind == "trend" and not (roles.date and measures):
        kind = "distribution"
    if kind == "correlation" and len(measures) < 2:
        kind = "distribution"
    if kind in ("drivers", "anomaly", "distribution") and not measures:
        kind = "values"
    if kind == "values":
        column = next(iter([*roles.categories, *roles.ids, *([roles.date] if roles.date else [])]), None)
        if column is None:
            return None
        return Analysis(
            "values", {"COLUMN": column}, f"There are no numbers to measure, so: how often each `{column}` occurs."
        )
    ids_note = (
        f" `{'`, `'.join(roles.ids)}` identif{'ies' if len(roles.ids) == 1 else 'y'} the rows, so I leave it out of the numbers."
        if roles.ids
        else ""
    )
    if kind == "trend":
        return _trend(q, roles, named_measures or measures[:4], named_labels)
    if kind == "drivers":
        return _drivers(roles, named_measures, named_labels)
    if kind == "top":
        return _top(q, roles, named_measures[0], named_labels)
    if kind == "anomaly":
        return _anomaly(roles, named_measures)
    if kind == "correlation":
        return Analysis("correlation", {"MEASURES": roles.measures}, "Next, how the measures move together." + ids_note)
    return Analysis("distribution", {"MEASURES": roles.measures}, "Next, the distribution of each measure." + ids_note)


def _trend(q: str, roles: Roles, measures: list[str], labels: list[str]) -> Analysis:
    group = next((c for c in labels if c in roles.categories), None)
    since = re.search(r"\bsince (\d{4})\b", q)
    params = {
        "DATE": roles.date,
        "MEASURES": {m: roles.measures[m] for m in measures},
        "GROUP": group,
        "FLAG": bool(re.search(ANOMALOUS, q)),
        "LOG": "log" in q.split() or "log scale" in q or "logarithmic" in q,
        "SINCE": f"{since.group(1)}-01-01" if since else None,
    }
    how = {"sum": "totals (sum)", "mean": "averages (mean)"}
    ways = "; ".join(
        f"{how[h]} of {', '.join(f'`{m}`' for m in measures if roles.measures[m] == h)}"
        for h in ("sum", "mean")
        if any(roles.measures[m] == h for m in measures)
    )
    intro = (
        f"Next, how they move over `{roles.date}`"
        + (f", one line per `{group}`" if group else "")
        + f": {ways} per period"
    )
    intro += ", with the period that stands out most circled." if params["FLAG"] else "."
    return Analysis("trend", params, intro)


def _drivers(roles: Roles, named: list[str], labels: list[str]) -> Analysis:
    measures = list(roles.measures)
    if named:
        target, why = named[0], ""
    elif roles.binary:
        target = roles.binary[0]
        why = f"I chose `{target}` as the outcome: it is {'the only' if len(roles.binary) == 1 else 'the first'} yes/no (0/1) column."
    elif outcome := [m for m in measures if OUTCOME.search(m)]:
        target, why = outcome[0], f"I chose `{outcome[0]}` as the outcome: its name says it is one."
    else:
        target, why = (
            measures[0],
            f"I chose `{measures[0]}` as the outcome: no column names one, and it is the first measure.",
        )
    params = {
        "TARGET": target,
        "WHY": why,
        "FACTORS": [m for m in measures if m != target],
        "CATEGORIES": [c for c, n in roles.categories.items() if 1 < n <= MAX_SERIES_LEVELS],
        "NAMED": labels,
    }
    intro = (
        f"Next, how each column goes with `{target}`: the correlation for numbers, the correlation ratio η for "
        "categories, strongest first."
    )
    return Analysis("drivers", params, intro)


def _top(q: str, roles: Roles, measure: str, labels: list[str]) -> Analysis:
    label = next(iter(labels), roles.ids[0] if roles.ids else None)
    largest = not re.search(SMALLEST, q)
    params = {
        "MEASURE": measure,
        "LABEL": label,
        "IDS": roles.ids,
        "LARGEST": largest,
        "AGG": roles.measures[measure],
    }
    if label and label not in roles.ids:
        intro = f"Next, each `{label}` ranked by its {roles.measures[measure]} of `{measure}`."
    else:
        intro = f"Next, the rows ranked by `{measure}`" + (f", named by `{label}`." if label else ".")
    return Analysis("top", params, intro)


def _anomaly(roles: Roles, named: list[str]) -> Analysis:
    measures = [m for m in (named or list(roles.measures)) if m not in roles.binary] or list(roles.measures)
    over_time = bool(roles.date) and not roles.ids  # items with an identifier are not a series over time
    series = [c for c, n in roles.categories.items() if 1 < n <= MAX_SERIES_LEVELS][:2] if over_time else []
    params = {
        "DATE": roles.date if over_time else None,
        "SERIES": series,
        "MEASURES": measures,
        "AGG": {m: roles.measures[m] for m in measures},
        "IDS": roles.ids,
    }
    if over_time:
        each = f" of each `{'` · `'.join(series)}`" if series else ""
        intro = f"Next, each value{each} against its neighbours over `{roles.date}`, to find the ones far from them."
    else:
        named_by = f", named by `{roles.ids[0]}`" if roles.ids else ""
        intro = f"Next, each value against its column's median, to find the ones far from the rest{named_by}."
    return Analysis("anomaly", params, intro)


def _no_table_script(workdir: Path) -> list[Step]:
    def answer(turn: Progress) -> list[Step]:
        names = sorted(p.name for p in workdir.iterdir() if p.is_file())
        listed = ", ".join(f"`{n}`" for n in names) if names else "no files"
        return [
            Text(
                f"I found {len(names)} file(s) in the working directory ({listed}), but none of them is a "
                "table. Upload a CSV, TSV, Excel, JSON or Parquet file and ask again."
            )
        ]

    return [Text("Let me see which files I have to work with."), Bash("ls -la"), Later(answer)]


def _load(name: str) -> str:
    return LOADER + f"\nPATH = {name!r}\ndf = load_table(PATH)\n"


def _header(params: dict[str, object]) -> str:
    """The plan's choices as assignments above the analysis code."""
    return "\n" + "".join(f"{key} = {value!r}\n" for key, value in params.items()) + "\n"


def _plain(text: str) -> str:
    """Lowercase words only: `Plan_Tier` and "plan tier" read alike."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def _word_stem(word: str) -> str:
    """A word without its ending, so `churned` is found as "churn" and `hours` as "hour"."""
    for ending in ("ing", "ed", "es", "s"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _stem(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "data"


def _fields(stdout: str, label: str) -> list[str]:
    return [m.strip() for m in re.findall(rf"^{label}: (.*)$", stdout, re.MULTILINE)]


def _failure(turn: Progress, name: str) -> str:
    return f"I couldn't finish the analysis of `{name}`: {failure_reason(turn)}"


def _first_look_summary(turn: Progress, name: str, others: list[Path], known: KnownTable | None = None) -> str:
    out = turn.stdout
    rows: str | None
    cols: str | None
    if known is not None:  # what the profile cell would have printed, from the note's profile
        rows, cols, missing = str(known.rows), str(known.columns), _missing_line(known)
    else:
        rows, cols, missing = labelled(out, "Rows"), labelled(out, "Columns"), labelled(out, "Missing") or "none"
    if rows is None or cols is None:
        return _failure(turn, name)
    parts = [f"`{name}` has **{_plural(int(rows), 'row')}** and **{_plural(int(cols), 'column')}**."]
    if missing == "none":
        parts.append("No values are missing.")
    else:
        gaps = re.findall(r"(.+?) \((\d+) of \d+\)(?:, |$)", missing)
        parts.append(
            "Missing values: " + ", ".join(f"`{c}` {int(n):,}" for c, n in gaps) + f" (of {int(rows):,} rows)."
        )
    empty = int(labelled(out, "Rows without any measure") or 0)
    if empty:
        parts.append(f"{_plural(empty, 'row')} have no value in any measure; I left them out.")
    if any(r.return_code for r in turn.records):
        parts.append(_failure(turn, name))
    parts += _fields(out, "Finding")
    saved = [f"`{x}`" for label in ("Saved chart", "Saved table", "Saved summary") for x in _fields(out, label)]
    if saved:
        spec = labelled(out, "Saved spec")
        also = f" (and the interactive chart `{spec}`)" if spec else ""
        parts.append(
            "I saved "
            + ", ".join(saved[:-1])
            + (" and " if len(saved) > 1 else "")
            + saved[-1]
            + f" to `outputs/`{also}."
        )
    if others:
        parts.append("Other tables I did not look at yet: " + ", ".join(f"`{p.name}`" for p in others) + ".")
    return " ".join(parts)


def _missing_line(known: KnownTable) -> str:
    """The profile cell's 'Missing' line (most missing first), from the note's profile."""
    gaps = sorted(((n, c) for c, n in known.missing.items() if n), key=lambda g: -g[0])
    return ", ".join(f"{c} ({n} of {known.rows})" for n, c in gaps) or "none"


def _followup_summary(turn: Progress, name: str) -> str:
    out = turn.records[-1].stdout if turn.records else ""
    chart = labelled(out, "Saved chart")
    if chart is None:
        return _failure(turn, name)
    tables = [f"`{t}`" for t in _fields(out, "Saved table")]
    saved = (
        f"The new chart is `{chart}`" + (f" and the table {', '.join(tables)}" if tables else "") + " in `outputs/`."
    )
    return " ".join([*_fields(out, "Finding"), saved])


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _count_listed(stdout: str) -> int:
    return sum(1 for line in stdout.splitlines() if line.startswith("-"))
