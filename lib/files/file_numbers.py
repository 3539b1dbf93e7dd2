"""The numbers a generated CSV or JSON file shows, with their line: read in the sandbox, bounded in bytes and count.

`numbers_in_file` decodes untrusted bytes, so it runs only in a sandbox worker (a sandbox task);
`generated_numbers` is the server's side: one sandbox call per generated CSV, TSV, JSON or JSON Lines file of a
run, the answers keyed by file id for lib.tracing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from lib.files import delimited, kinds, sandbox
from lib.storage import blobs
from lib.tracing import MAX_PER_OUTPUT, MAX_WRITTEN, FileNumbers, ShownNumber, written_numbers
from lib.transcript import GeneratedFile, Item

MAX_BYTES = 5_000_000  # of a file read for its numbers
CONTEXT_CHARS = 160  # of the line shown with a number
READ_SECONDS = 10.0
KINDS = {"csv": "delimited", "tsv": "delimited", "json": "json", "jsonl": "json"}

# JSON's strings (escapes included) and numbers; a string that does not end stops the reading (the file is cut)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')
_JSON_KEY = re.compile(r"\s*:")
_COMMA_DECIMAL = re.compile(r"-?\d+,\d+")


@sandbox.task
def numbers_in_file(path: Path, max_bytes: int = MAX_BYTES, max_numbers: int = MAX_PER_OUTPUT) -> FileNumbers:
    """The numbers a CSV/TSV (by cell, under its column) or JSON/JSON Lines file (by value, under its key)
    shows, with their 1-based line; at most `max_bytes` of the file and `max_numbers` numbers are read."""
    kind = kinds.for_name(path.name)
    how = KINDS.get(kind.key if kind else "")
    if how is None:
        return FileNumbers(note=f"{path.name} is not a CSV or JSON file.")
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    cut = len(data) > max_bytes
    if cut:
        data = data[:max_bytes]
        # whole lines only, or on one long line up to a separator: never half a number
        end = data.rfind(b"\n")
        data = data[: (end if end >= 0 else max(data.rfind(b","), data.rfind(b" "))) + 1]
    found = _delimited(data, kind.key) if how == "delimited" else _json(data)  # type: ignore[union-attr]
    numbers = tuple(islice(found, max_numbers + 1))
    if len(numbers) > max_numbers:
        return FileNumbers(numbers[:max_numbers], truncated=True)
    return FileNumbers(numbers, truncated=cut)


def _delimited(data: bytes, kind: str) -> Iterator[ShownNumber]:
    dialect = delimited.csv_dialect(data[: delimited.ENCODING_SAMPLE_BYTES], kind)
    text = data.decode(dialect.encoding, errors="replace")
    lines = io.StringIO(text)
    for _ in range(dialect.skiprows):
        lines.readline()
    raw: list[str] = []  # the lines of the row being read, to show as they are written

    def feed() -> Iterator[str]:
        for line in lines:
            raw.append(line)
            yield line

    reader = csv.reader(feed(), delimiter=dialect.delimiter)
    header: list[str] = []
    try:
        for row in reader:
            written_row = _clip("".join(raw))
            raw.clear()
            if not header:
                header = row or [""]
                continue
            for column, cell in enumerate(row):
                if dialect.decimal == "," and _COMMA_DECIMAL.fullmatch(cell.strip()):
                    cell = cell.replace(",", ".")
                label = header[column][:100] if column < len(header) else ""
                for w in written_numbers(cell):
                    if len(w.text) <= MAX_WRITTEN:
                        yield ShownNumber(w.text, reader.line_num + dialect.skiprows, written_row, label)
    except csv.Error:
        return  # a field over csv's size limit, or a NUL byte: what was read so far stands


def _json(data: bytes) -> Iterator[ShownNumber]:
    text = data.decode("utf-8-sig", errors="replace")
    line, line_start, last, label = 1, 0, 0, ""
    for m in _JSON_TOKEN.finditer(text):
        at, token = m.start(), m.group(0)
        newlines = text.count("\n", last, at)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", last, at) + 1
        last = at
        if token == '"':
            return  # a string that does not end
        if token[0] == '"':
            if _JSON_KEY.match(text, m.end()):
                label = token[1:-1][:100]
                continue
            found = [(w.text, at + 1 + w.start) for w in written_numbers(token[1:-1])]
        else:
            found = [(token, at)]
        for written, where in found:
            if len(written) <= MAX_WRITTEN:
                yield ShownNumber(written, line, _around(text, line_start, where), label)


def _around(text: str, line_start: int, at: int) -> str:
    """The line holding position `at`, or the part of it around `at` when the line is long."""
    limit = line_start + CONTEXT_CHARS
    end = text.find("\n", at, limit + 1)
    if end < 0 and len(text) <= limit:
        end = len(text)
    if end >= 0:
        return text[line_start:end].strip()
    left = max(line_start, at - CONTEXT_CHARS // 2)
    part = text[left : left + CONTEXT_CHARS].split("\n", 1)[0].strip()
    return ("…" if left > line_start else "") + part + "…"


def _clip(line: str) -> str:
    line = line.strip()
    return line if len(line) <= CONTEXT_CHARS else line[: CONTEXT_CHARS - 1] + "…"


def readable(item: GeneratedFile) -> bool:
    """Whether a generated file is one whose numbers are read: a CSV, TSV, JSON or JSON Lines file that was kept."""
    kind = kinds.for_name(item.filename)
    return bool(item.path and not item.error and kind and kind.key in KINDS)


def generated_numbers(data_dir: Path, items: Iterable[Item]) -> dict[str, FileNumbers]:
    """The numbers each readable generated file among `items` shows, read in the sandbox, by file id."""

    found = {}
    for item in items:
        if not isinstance(item, GeneratedFile) or not readable(item) or item.file_id in found:
            continue
        try:
            found[item.file_id] = sandbox.call(
                numbers_in_file, blobs.path(data_dir, item.path), MAX_BYTES, seconds=READ_SECONDS
            )
        except (sandbox.LimitExceeded, OSError, ValueError, csv.Error) as exc:
            found[item.file_id] = FileNumbers(note=f"Its numbers could not be read: {exc}")
    return found
