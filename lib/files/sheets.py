"""Excel workbooks (XLSX): measured from their ZIP directory before any part is opened, then a first look streamed
from the first sheet's head, and the first sheet read whole for its exact profile."""

from __future__ import annotations

import zipfile
import zlib
from itertools import islice
from pathlib import Path

import pandas as pd

from lib.files import delimited, quality
from lib.files.checks import REEXPORT_WORKBOOK, Refused, check_archive, short
from lib.files.stats import Profiler
from lib.files.tables import LOOK_BYTES, TablePreview, frame_preview, shape_note, to_arrow

_READ_ERRORS = (ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, EOFError, zipfile.BadZipFile,
                SyntaxError, zlib.error)  # fmt: skip  # xml.etree.ElementTree.ParseError is a SyntaxError


def _broken(name: str, exc: BaseException | None = None) -> Refused:
    detail = f" ({short(exc)})" if exc is not None else ""
    return Refused(f"{name} is a damaged workbook and can't be read{detail}.", REEXPORT_WORKBOOK)


def _sheets_note(sheets: list[str]) -> str:
    return f'Sheet "{sheets[0]}" shown' + (f"; {len(sheets)} sheets in the workbook." if len(sheets) > 1 else ".")


def look_xlsx(path: Path, name: str, size: int, max_rows: int, entries: list[zipfile.ZipInfo]) -> TablePreview:
    """The first sheet's head as a first look (rows estimated from the sheet's stated size); the whole sheet
    when the workbook is small or the sheet is no longer than the head."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_archive(entries, size, name, "workbook")
    if size <= LOOK_BYTES:
        return whole_xlsx(path, name, size, max_rows, entries)
    try:
        book = load_workbook(path, read_only=True, data_only=True, keep_links=False)
        try:
            sheets = [str(s) for s in book.sheetnames]
            if not book.worksheets:
                raise Refused(f"{name} has no sheets.", REEXPORT_WORKBOOK)
            sheet = book.worksheets[0]
            stated = sheet.max_row
            rows = list(islice(sheet.iter_rows(values_only=True), max_rows + 1))
        finally:
            book.close()
    except Refused:
        raise
    except (*_READ_ERRORS, InvalidFileException) as exc:
        raise _broken(name, exc) from None
    if len(rows) <= max_rows or not rows:
        return whole_xlsx(path, name, size, max_rows, entries)
    names = delimited.unique_names(["" if v is None else str(v) for v in rows[0]])
    frame = pd.DataFrame([list(r) + [None] * (len(names) - len(r)) for r in rows[1:]], columns=names)
    profiler = Profiler()
    profiler.feed(to_arrow(frame))
    profile = profiler.result()
    estimate = max(len(frame), (stated or 0) - 1)
    return TablePreview(
        rows=estimate,
        columns=len(names),
        head=frame.head(max_rows),
        profile=profile,
        sheets=sheets,
        note=f"{shape_note(estimate, len(names), False)}; {_sheets_note(sheets)}",
        quality=quality.notes(profile, len(frame), None),
        rows_exact=False,
        sampled=len(frame),
    )


def whole_xlsx(path: Path, name: str, size: int, max_rows: int, entries: list[zipfile.ZipInfo]) -> TablePreview:
    """First sheet in full (exact rows), plus the names of all sheets; the zip (its `entries`) is measured first,
    and every part is checked, so a workbook damaged beyond its first sheet says so."""
    from openpyxl.utils.exceptions import InvalidFileException

    check_archive(entries, size, name, "workbook")
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            sheets = [str(s) for s in book.sheet_names]
            if not sheets:
                raise Refused(f"{name} has no sheets.", REEXPORT_WORKBOOK)
            frame = pd.read_excel(book, sheet_name=book.sheet_names[0])
    except Refused:
        raise
    except (*_READ_ERRORS, InvalidFileException) as exc:
        raise _broken(name, exc) from None
    if frame.shape[1] == 0:
        raise Refused(
            f'{name}: the sheet "{sheets[0]}" is empty.', "Put the data on the first sheet and upload it again."
        )
    return frame_preview(frame, max_rows, sheets=sheets, note=_sheets_note(sheets), extra=_damage(path))


def _damage(path: Path) -> tuple[str, ...]:
    """A note when a part of the workbook other than the sheet read is corrupted (each part is decompressed and its
    checksum compared; the directory was measured before)."""
    bad = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                try:
                    with archive.open(info) as part:
                        while part.read(1 << 20):
                            pass
                except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
                    bad.append(info.filename)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return ()
    if not bad:
        return ()
    parts = ", ".join(f"`{b}`" for b in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return (
        f"Damaged workbook: {parts} {'is' if len(bad) == 1 else 'are'} corrupted. The first sheet was read, but "
        "other sheets, formulas or formatting may be incomplete: re-export it from Excel (Save As > Excel "
        "Workbook) and upload it again to be sure.",
    )
