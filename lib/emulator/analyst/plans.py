"""The demo analyst's plans: a real first look at the container's table, steered lightly by the question."""

from __future__ import annotations

import re
from pathlib import Path

from lib.emulator.script import OUTPUTS, Bash, Later, Progress, Python, Step, Text
from lib.files import kinds

from .cells import CHART, FINDING, LOADER, PROFILE, SHAPE, SUMMARY, VEGA_LITE
from .known import KnownTable, known_table, split

# what the registry previews as a table, plus old Excel and JSON Lines, which pandas in the container also reads
TABULAR = {ext for k in kinds.KINDS if k.table or k.key in ("xls", "jsonl") for ext in k.extensions}
TOOL_HINT = '{"type": "code_execution_20260521", "name": "code_execution"}'


def plan(question: str, uploaded: list[str]) -> list[Step]:
    """The emulator's planner: look at the container when the turn starts, then plan from what is there."""
    return [Later(lambda turn: default_script(_workdir(turn), question, uploaded))]


def _workdir(turn: Progress) -> Path | None:
    return turn.container.workdir if turn.container is not None else None


def question_kind(question: str) -> str | None:
    """The chart a question asks for, if any."""
    q = question.lower()
    if any(w in q for w in ("trend", "over time", "time series", "seasonal")):
        return "trend"
    if any(w in q for w in ("anomal", "outlier", "unusual")):
        return "anomaly"
    if any(w in q for w in ("driver", "correlat", "relationship", "drives")):
        return "correlation"
    if any(w in q for w in ("distribution", "histogram", "spread")):
        return "distribution"
    return None


def tabular_files(workdir: Path, preferred: list[str]) -> list[Path]:
    """Tables in the container, the ones uploaded with this request first, then newest."""
    found = [p for p in workdir.iterdir() if p.is_file() and p.suffix.lower() in TABULAR]
    found.sort(key=lambda p: (p.name not in preferred, -p.stat().st_mtime))
    return found


def default_script(workdir: Path | None, message: str, uploaded: list[str]) -> list[Step]:
    """The analyst's steps for a new turn in this container (None: no code tool was offered); `message` is the
    user message's text: the question, then the files note."""
    question, note = split(message)
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
    previous = [p for p in (workdir / OUTPUTS).iterdir() if p.is_file()]
    if previous:
        return _followup_script(tables[0], question)
    return _first_look_script(tables[0], tables[1:], question, known_table(note, tables[0].name))


def _first_look_script(table: Path, others: list[Path], question: str, known: KnownTable | None) -> list[Step]:
    name, stem = table.name, _stem(table)
    kind = question_kind(question) or "auto"
    plan = {
        "trend": "then chart how the numbers move over time",
        "anomaly": "then look for outliers",
        "correlation": "then check which columns move together",
        "distribution": "then chart the distributions",
        "auto": "then chart the main columns",
    }[kind]
    loader = _load(name)
    analysis = CHART.format(kind=kind, stem=stem) + VEGA_LITE + SUMMARY.format() + FINDING
    if known is not None:  # the files note has the table's profile: no cell to find out its columns
        return [
            Text(
                f"I'll load `{name}` with pandas; the profile sent with the question already gives its column "
                f"types and missing values, so I'll go straight to the analysis: {plan[5:]}."
            ),
            Python(loader + SHAPE + analysis),
            Later(lambda turn: [Text(_first_look_summary(turn, name, others, known))]),
        ]
    return [
        Text(f"I'll load `{name}` with pandas, profile its columns and missing values, {plan}."),
        Python(loader + PROFILE),
        Python(loader + analysis),
        Later(lambda turn: [Text(_first_look_summary(turn, name, others))]),
    ]


def _followup_script(table: Path, question: str) -> list[Step]:
    name, stem = table.name, _stem(table)
    kind = question_kind(question) or "correlation"
    code = _load(name) + CHART.format(kind=kind, stem=stem) + VEGA_LITE + FINDING
    return [
        Text("Let me check what is already in `outputs/` from the earlier analysis."),
        Bash("ls -la outputs"),
        Later(
            lambda turn: [
                Text(f"{_count_listed(turn.stdout)} earlier file(s) are still there. Now a closer look at `{name}`.")
            ]
        ),
        Python(code),
        Later(lambda turn: [Text(_followup_summary(turn, name))]),
    ]


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


def _stem(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "data"


def _field(stdout: str, label: str) -> str | None:
    match = re.search(rf"^{label}: (.*)$", stdout, re.MULTILINE)
    return match.group(1).strip() if match else None


def _failure(turn: Progress, name: str) -> str:
    errors = [r.stderr.strip().splitlines()[-1] for r in turn.records if r.stderr.strip() and r.return_code]
    why = errors[-1] if errors else "the code did not finish"
    return f"I couldn't finish the analysis of `{name}`: {why}"


def _first_look_summary(turn: Progress, name: str, others: list[Path], known: KnownTable | None = None) -> str:
    out = turn.stdout
    rows, cols = _field(out, "Rows"), _field(out, "Columns")
    missing = _field(out, "Most missing") if known is None else _most_missing(known)
    if rows is None or cols is None:
        return _failure(turn, name)
    parts = [f"`{name}` has **{_plural(int(rows), 'row')}** and **{_plural(int(cols), 'column')}**."]
    if missing and not missing.startswith("none"):
        column, _, detail = missing.partition(" (")
        parts.append(f"The column with the most missing values is `{column}` ({detail}.")
    else:
        parts.append("No values are missing.")
    if finding := _field(out, "Finding"):
        parts.append(finding)
    saved = [f"`{x}`" for x in (_field(out, "Saved chart"), _field(out, "Saved summary")) if x]
    if saved:
        spec = _field(out, "Saved spec")
        also = f" (and the interactive chart `{spec}`)" if spec else ""
        parts.append("I saved " + " and ".join(saved) + f" to `outputs/`{also}.")
    if others:
        parts.append("Other tables I did not look at yet: " + ", ".join(f"`{p.name}`" for p in others) + ".")
    return " ".join(parts)


def _most_missing(known: KnownTable) -> str:
    """The 'Most missing' line the profile cell would have printed, from the note's profile."""
    if not known.missing or max(known.missing.values()) == 0:
        return "none (no missing values)"
    column = max(known.missing, key=lambda c: known.missing[c])
    return f"{column} ({known.missing[column]} of {known.rows} missing)"


def _followup_summary(turn: Progress, name: str) -> str:
    out = turn.records[-1].stdout if turn.records else ""
    chart, finding = _field(out, "Saved chart"), _field(out, "Finding")
    if chart is None:
        return _failure(turn, name)
    return " ".join(x for x in (finding, f"The new chart is `{chart}` in `outputs/`.") if x)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _count_listed(stdout: str) -> int:
    return sum(1 for line in stdout.splitlines() if line.startswith("-"))
