"""The first rows of a delimited file a run made, as a small table a page can show (read only in the sandbox).

A CSV written by a model's code can be anything: 60,000 columns in half a megabyte, megabyte-long cells, a
header of blanks and repeats. The head is read in a sandbox worker from the file's first bytes, only its first
columns converted, cells cut and numbers rounded, so the server gets a table of at most the limits' rows,
columns and cell length (lib.limits) and a note saying what was left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lib.files import decoded, delimited, sandbox
from lib.files.preview import bounded_cells
from lib.limits import LIMITS


@dataclass(frozen=True)
class Head:
    """The first rows and columns of a table, ready to show, and what was left out."""

    frame: pd.DataFrame = field(repr=False)
    columns: int  # in the file
    note: str = ""


@sandbox.task
def table_head(path: Path, kind: str) -> Head:
    """The head of a CSV or TSV file: rounded, empty cells blank, at most the limits' rows, columns and cells."""
    data = delimited.read_head_bytes(path, LIMITS.table_head_bytes)
    if len(data) == LIMITS.table_head_bytes and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]  # whole rows only
    try:
        frame, found = delimited.read_head_stream(data, LIMITS.table_head_rows, kind, LIMITS.table_head_columns)
    except delimited.CsvError as exc:
        raise ValueError(f"its first rows could not be read as a table ({exc})") from None
    width = found.width or frame.shape[1]
    shown = frame.round(4)
    for i in range(shown.shape[1]):
        present = frame.iloc[:, i].notna()
        if not present.all():  # blanks as text: numbers beside "" would not convert to Arrow, on every draw
            shown.isetitem(i, shown.iloc[:, i].astype(object).where(present, "").astype(str))
    note = f"first {LIMITS.table_head_columns:,} of {width:,} columns" if width > frame.shape[1] else ""
    return Head(bounded_cells(shown), width, note)


def head_of(path: Path, kind: str) -> decoded.Decoded[Head]:
    """The head of the delimited file at `path`, read once per version of the file, or why there is none."""
    return decoded.of_file(table_head, path, kind)
