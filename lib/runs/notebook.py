"""What an exported notebook needs to run outside the container: its inputs, a setup cell, local cells, requirements.

The container runs code in a working directory holding the uploaded files, with generated files going to
`$OUTPUT_DIR` (`outputs/`). The notebook recreates that layout in `work/` next to itself: the inputs are copied
from `inputs/` (or from beside the notebook), `OUTPUT_DIR` points at `work/outputs`, and absolute container
paths in the code are rewritten by `CONTAINER_PATHS` to the same places relative to `work/`.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lib.files import decoded, sandbox
from lib.storage import blobs
from lib.storage.records import FileRecord
from lib.transcript import CodeCell

INPUTS_DIR = "inputs"

# Absolute container paths -> the same place relative to the local working folder (longest prefixes first).
CONTAINER_PATHS: tuple[tuple[str, str], ...] = (
    ("/mnt/user-data/outputs/", "outputs/"),
    ("/mnt/user-data/uploads/", ""),
    ("/mnt/user-data/", ""),
    ("/tmp/outputs/", "outputs/"),
    ("/tmp/inputs/", ""),
    ("/mnt/data/", ""),
)

# import name -> pip distribution, for the common ones whose names differ
PIP_NAMES = {
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "pymupdf",
    "Crypto": "pycryptodome",
    "dotenv": "python-dotenv",
    "attr": "attrs",
    "mpl_toolkits": "matplotlib",
    "google": "protobuf",
    "tables": "tables",
}

_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?[^\n]*\n(.*?)\n\s*\1\s*$", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class InputFile:
    """One file the run uploaded to the container: its name there and its local copy (None when gone)."""

    file_id: str
    name: str
    local: Path | None


def run_inputs(records: Sequence[FileRecord], data_dir: Path | None = None) -> list[InputFile]:
    """The run's input files in order, from their catalogue records; with `data_dir`, each with its local copy
    (fetched from the object store when there is one), else by name only."""
    found: dict[str, InputFile] = {}
    for record in records:
        if record.id in found:
            continue
        local = blobs.path(data_dir, record.local_path) if data_dir is not None and record.local_path else None
        found[record.id] = InputFile(
            record.id, record.filename, local if local is not None and local.is_file() else None
        )
    return list(found.values())


def local_paths(code: str) -> str:
    """Code with absolute container paths rewritten to paths relative to the local working folder."""
    for container, local in CONTAINER_PATHS:
        code = code.replace(container, local)
        bare = container.rstrip("/")
        code = re.sub(rf"{re.escape(bare)}(?![\w/.-])", local.rstrip("/") or ".", code)
    return code


SETUP = '''\
# Recreates the container's layout here, so the cells below run unedited:
#   work/            the container's working directory (the uploaded files are copied into it)
#   work/outputs/    $OUTPUT_DIR, where the code saves its files
# Absolute container paths in the code were rewritten to these places:
{mapping}
import os
import pathlib
import shutil
import subprocess
import sys

if "NOTEBOOK_HOME" not in globals():  # the folder this notebook was opened from, kept when the cell is re-run
    NOTEBOOK_HOME = pathlib.Path.cwd()
WORK = NOTEBOOK_HOME / "work"
OUTPUT_DIR = WORK / "outputs"
OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
INPUT_FILES = {inputs!r}
missing = []
for name in INPUT_FILES:
    src = next((p for p in (NOTEBOOK_HOME / "{inputs_dir}" / name, NOTEBOOK_HOME / name) if p.is_file()), None)
    if src is None:
        missing.append(name)
    elif not (WORK / name).exists():
        shutil.copy2(src, WORK / name)
if missing:
    raise FileNotFoundError(
        f"Put {{', '.join(missing)}} in {{NOTEBOOK_HOME / '{inputs_dir}'}} (the files this run analysed), then run again."
    )
os.environ["OUTPUT_DIR"] = str(OUTPUT_DIR)
os.environ.setdefault("MPLBACKEND", "Agg")
os.chdir(WORK)


def run_shell(command):
    """Run a bash cell of the run here, printing what it printed."""
    done = subprocess.run(command, shell=True, capture_output=True, text=True, executable=shutil.which("bash"))
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    if done.returncode:
        print(f"(exit code {{done.returncode}})", file=sys.stderr)


def _image_snapshot():
    return {{p: p.stat().st_mtime_ns for p in OUTPUT_DIR.rglob("*.png")}}


def _show_new_images(*_):
    """Show the images a cell saved to $OUTPUT_DIR, as the run showed the files the container returned."""
    global _images_before
    from IPython.display import Image, display

    now = _image_snapshot()
    for path in sorted(p for p, t in now.items() if _images_before.get(p) != t):
        display(Image(filename=str(path)))
    _images_before = now


_images_before = _image_snapshot()
if "get_ipython" in globals():  # in Jupyter: show new images after each cell
    _ipython = get_ipython()  # noqa: F821
    for _hook in list(_ipython.events.callbacks["post_run_cell"]):
        if getattr(_hook, "__name__", "") == "_show_new_images":
            _ipython.events.unregister("post_run_cell", _hook)
    _ipython.events.register("post_run_cell", _show_new_images)
print(f"Working in {{WORK}}; outputs go to {{OUTPUT_DIR}}")
'''


def setup_source(inputs: list[InputFile]) -> str:
    """The first code cell: the local working folder, the inputs copied in, $OUTPUT_DIR, helpers."""
    mapping = "\n".join(f"#   {c:<26} -> work/{local or ''}" for c, local in CONTAINER_PATHS)
    return SETUP.format(mapping=mapping, inputs=[f.name for f in inputs], inputs_dir=INPUTS_DIR)


SOURCES_SETUP = '''\
# The SQL sources this run queried, by name. Their URLs and passwords are not in this notebook: set each
# variable below to the source's SQLAlchemy URL before running (the same variable the app reads), e.g.
#   export {example}="postgresql+psycopg://reader:…@db.example.com/sales"
# The code's `await sql(source=…, query=…)` then asks that database again, with its data as it is now.
import datetime
import decimal
import os
import time

import sqlalchemy

SOURCES = {sources!r}
MAX_ROWS = {max_rows}
_engines = {{}}


def _plain(value):
    """A database value as the container got it: numbers, ISO dates, text."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray, memoryview)):
        import base64

        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _kind(values):
    found = next((v for v in values if v is not None), None)
    for kinds, name in (((bool,), "boolean"), ((int,), "integer"), ((float, decimal.Decimal), "number"),
                        ((datetime.datetime,), "timestamp"), ((datetime.date,), "date"), ((str,), "text")):
        if isinstance(found, kinds):
            return name
    return "other"


async def sql(source, query):
    """The run's `sql` tool, here: one query on a source whose URL is in the environment; the result has the
    shape the code got in the container (columns, rows, row_count, truncated; or an error)."""
    started = time.monotonic()

    def error(kind, message, hint=""):
        detail = {{"kind": kind, "message": message, "hint": hint}}
        return {{"source": source, "error": detail, "elapsed_seconds": round(time.monotonic() - started, 3)}}

    variable = SOURCES.get(source)
    if variable is None:
        return error("not_allowed", f"`{{source}}` is not one of this run's sources ({{', '.join(SOURCES)}}).")
    url = os.environ.get(variable)
    if not url:
        raise RuntimeError(f"Set {{variable}} to the SQLAlchemy URL of the `{{source}}` source, then run again.")
    engine = _engines.get(source) or _engines.setdefault(source, sqlalchemy.create_engine(url))
    try:
        with engine.connect() as conn:
            result = conn.exec_driver_sql(query)
            names = list(result.keys())
            raw = result.fetchmany(MAX_ROWS + 1)
            conn.rollback()
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return error("sql", str(getattr(exc, "orig", None) or exc), "Fix the SQL and try again.")
    truncated = len(raw) > MAX_ROWS
    rows = [[_plain(v) for v in row] for row in raw[:MAX_ROWS]]
    columns = [{{"name": n, "type": "", "kind": _kind([r[i] for r in raw])}} for i, n in enumerate(names)]
    out = {{"source": source, "columns": columns, "rows": rows, "row_count": len(rows), "truncated": truncated}}
    if truncated:
        out["note"] = f"Cut at the row cap: the first {{MAX_ROWS:,}} rows; more rows exist."
    out["elapsed_seconds"] = round(time.monotonic() - started, 3)
    return out


missing = [variable for variable in SOURCES.values() if not os.environ.get(variable)]
print("Set " + ", ".join(missing) + " before running the cells that query." if missing else "Sources: " + ", ".join(SOURCES))
'''


def source_variable(name: str) -> str:
    """The environment variable that holds a source's URL, as the app reads it: ANALYST_SOURCE_<NAME>_URL."""
    return f"ANALYST_SOURCE_{name.upper()}_URL"


def sources_setup(names: list[str], max_rows: int = 200_000) -> str:
    """The cell defining `sql()` against each source's URL read from its environment variable (no URL here)."""
    variables = {name: source_variable(name) for name in names}
    return SOURCES_SETUP.format(sources=variables, max_rows=max_rows, example=next(iter(variables.values())))


def sources_markdown(names: list[str]) -> str:
    """A note on the SQL sources the code queries and how to point the notebook at them."""
    listed = ", ".join(f"`{name}` (`{source_variable(name)}`)" for name in names)
    return (
        "## SQL sources\n\nThe code queries these SQL sources with `await sql(...)`: " + listed + ". "
        "Set each variable to the source's SQLAlchemy URL in the environment Jupyter runs in; the notebook "
        "holds no URL or password. Queries run against the data as it is when you run them."
    )


def inputs_markdown(inputs: list[InputFile], bundled: bool) -> str:
    """A note on where the run's input files are, and where to put the ones the export could not include."""
    if not inputs:
        return "This run had no input files."
    missing = [f for f in inputs if f.local is None or not bundled]
    lines = ["## Input files", ""]
    if bundled:
        included = [f for f in inputs if f.local is not None]
        if included:
            lines.append(f"Included in `{INPUTS_DIR}/`: " + ", ".join(f"`{f.name}`" for f in included) + ".")
    if missing:
        lines.append(
            f"**Put these files in a folder `{INPUTS_DIR}/` next to this notebook** (or beside it) before running: "
            + ", ".join(f"`{f.name}`" for f in missing)
            + ". They are the files uploaded to the run (download them from the app's Files page)."
        )
    lines += ["", "Run the cells in order. The setup cell below recreates the container's folders in `work/`."]
    return "\n".join(lines)


def cell_source(cell: CodeCell) -> str:
    """A code cell of the run as Python that does the same here (bash through `run_shell`, editor ops on files)."""
    if cell.tool == "bash_code_execution":
        return f"run_shell({_literal(local_paths(cell.code))})"
    if cell.tool == "text_editor_code_execution":
        path = local_paths(cell.path)
        if cell.operation == "create":
            return (
                f"# editor: create {cell.path}\n"
                f"pathlib.Path({path!r}).parent.mkdir(parents=True, exist_ok=True)\n"
                f"pathlib.Path({path!r}).write_text({_literal(local_paths(cell.code))}, encoding='utf-8')"
            )
        if cell.operation == "str_replace":
            return (
                f"# editor: str_replace in {cell.path}\n"
                f"_text = pathlib.Path({path!r}).read_text(encoding='utf-8')\n"
                f"_old, _new = {_literal(cell.old_str)}, {_literal(cell.new_str)}\n"
                "assert _text.count(_old) == 1, 'the text to replace is not in the file exactly once'\n"
                f"pathlib.Path({path!r}).write_text(_text.replace(_old, _new), encoding='utf-8')"
            )
        return f"# editor: {cell.operation} {cell.path}\nprint(pathlib.Path({path!r}).read_text(encoding='utf-8'))"
    return local_paths(cell.code)


def _literal(text: str) -> str:
    """A Python literal for text: readable triple quotes when safe, repr otherwise."""
    if '"""' not in text and "\\" not in text and not text.endswith('"') and "\n" in text:
        return f'"""\\\n{text}"""'
    return repr(text)


def python_sources(cells: list[CodeCell]) -> list[str]:
    """The Python the run ran: code cells, Python heredocs in bash, and .py files the editor created."""
    sources = []
    for cell in cells:
        if cell.tool == "bash_code_execution":
            sources += [body for _, body in _HEREDOC.findall(cell.code)]
        elif cell.tool == "text_editor_code_execution":
            if cell.operation == "create" and cell.path.endswith(".py"):
                sources.append(cell.code)
        else:
            sources.append(cell.code)
    return sources


def requirements(cells: list[CodeCell]) -> list[str] | None:
    """Pip names of the third-party modules the run's Python imports, sorted; None when they could not be read.

    The code is a model's: it is parsed in the sandbox (within its time and memory limits), never here."""
    return decoded.of_value(imported_packages, list(cells)).value


@sandbox.task
def imported_packages(cells: list[CodeCell]) -> list[str]:
    """Pip names of the third-party modules the cells' Python imports, sorted (parses the code in this process)."""
    local = {Path(c.path).stem for c in cells if c.operation == "create" and c.path.endswith(".py")}
    found: set[str] = set()
    for source in python_sources(cells):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    third = {m for m in found if m not in sys.stdlib_module_names and m not in local and m != "__future__"}
    return sorted({PIP_NAMES.get(m, m) for m in third}, key=str.lower)


def requirements_source(cells: list[CodeCell], extra: Sequence[str] = ()) -> str:
    """The requirements cell: what the code imports (and `extra`), as a commented pip line to run when missing."""
    found = requirements(cells)
    if found is None:
        return "# The packages the code imports could not be listed (the code is too long or too deeply nested)."
    names = sorted(set(found) | set(extra), key=str.lower)
    if not names:
        return "# The code imports only Python's standard library."
    return (
        "# What the code imports (uncomment to install into this kernel's environment):\n"
        f"# %pip install {' '.join(names)}"
    )
