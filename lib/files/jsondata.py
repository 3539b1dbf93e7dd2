"""JSON and JSON Lines as tables: nesting measured before parsing, records flattened into columns; a first look
parses a bounded head (the first lines, or the first elements of a top-level array)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lib.files import encodings, quality
from lib.files.checks import Refused, format_size, short
from lib.files.delimited import read_head_bytes, unique_names
from lib.files.documents import text_head
from lib.files.encodings import detect_encoding
from lib.files.stats import Profiler
from lib.files.tables import LOOK_BYTES, TablePreview, frame_preview, shape_note, to_arrow
from lib.limits import LIMITS

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
JSON_HINT = (
    "Fix the file (a JSON validator shows the exact spot) or export it again. "
    "JSON Lines files need one complete JSON value on each line."
)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest, counted without recursion (strings are skipped)."""
    stripped = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    if not stripped.size:
        return 0
    step = np.isin(stripped, (ord("["), ord("{"))).astype(np.int32) - np.isin(stripped, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def parse_json(text: str) -> Any:
    """Parse a JSON document, or JSON Lines into a list; raises ValueError if it is neither."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as first_error:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise first_error from None
        try:
            return [json.loads(line) for line in lines]
        except json.JSONDecodeError:
            raise first_error from None


def json_to_frame(obj: Any) -> tuple[pd.DataFrame, str]:
    """Turn parsed JSON into a DataFrame, flattening nested records; also says what was done."""
    if isinstance(obj, dict):
        lists = {k: v for k, v in obj.items() if isinstance(v, list)}
        if len(obj) == 1 and lists:
            key, records = next(iter(lists.items()))
            frame, note = json_to_frame(records)
            return frame, f'Records taken from the "{key}" key. {note}'.strip()
        if lists and len(lists) == len(obj) and len({len(v) for v in lists.values()}) == 1:
            return pd.DataFrame(obj), "Read as one column per key."
        return pd.json_normalize(obj, max_level=20), "A single JSON object, shown as one row."
    if isinstance(obj, list):
        if obj and all(isinstance(r, dict) for r in obj):
            nested = any(isinstance(v, (dict, list)) for r in obj[:1000] for v in r.values())
            note = "Nested fields were flattened into dotted column names." if nested else ""
            return pd.json_normalize(obj, max_level=20), note
        if obj and all(isinstance(r, list) for r in obj):
            return pd.DataFrame(obj), ""
        return pd.DataFrame({"value": obj}), ""
    return pd.DataFrame({"value": [obj]}), "A single JSON value."


def _head_records(head: bytes, encoding: str) -> tuple[list[Any], int] | None:
    """(the first records, bytes they take) of a large file: complete lines of JSON Lines, or complete elements of
    a top-level array; None when neither shape is seen in the head."""
    text = encodings.decode(head, encoding, errors="replace")
    stripped = text.lstrip("\ufeff \t\r\n")
    decoder = json.JSONDecoder()
    if stripped.startswith("["):
        at, records = len(text) - len(stripped) + 1, []
        while True:
            while at < len(text) and text[at] in " \t\r\n,":
                at += 1
            try:
                value, end = decoder.raw_decode(text, at)
            except json.JSONDecodeError:
                break
            records.append(value)
            at = end
        return (records, len(text[:at].encode("utf-8"))) if records else None
    lines = text.splitlines(keepends=True)[:-1]  # the last one may be cut
    records, used = [], 0
    for line in lines:
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                return None
        used += len(line.encode("utf-8"))
    return (records, used) if len(records) >= 2 else None


def look_json(path: Path, name: str, size: int, max_rows: int) -> TablePreview | None:
    """A first look at a large JSON file from its head, or None when the whole file must be read."""
    if size <= LOOK_BYTES:
        return None
    head = read_head_bytes(path, LOOK_BYTES)
    if json_depth(head) > LIMITS.json_depth:
        return None
    found = _head_records(head, detect_encoding(head))
    if found is None:
        return None
    records, used = found
    try:
        frame, note = json_to_frame(records)
    except (ValueError, TypeError, KeyError, RecursionError):
        return None
    if frame.empty or frame.shape[1] == 0:
        return None
    frame.columns = unique_names([str(c) for c in frame.columns])
    profiler = Profiler()
    profiler.feed(to_arrow(frame))
    profile = profiler.result()
    estimate = max(len(frame), round(len(frame) * size / max(used, 1)))
    return TablePreview(
        rows=estimate,
        columns=frame.shape[1],
        head=frame.head(max_rows),
        profile=profile,
        note=f"{shape_note(estimate, frame.shape[1], False)}; statistics so far from the first {len(frame):,} records"
        + (f". {note}" if note else "."),
        quality=quality.notes(profile, len(frame), None),
        rows_exact=False,
        sampled=len(frame),
    )


def whole_json(path: Path, name: str, size: int, max_rows: int) -> TablePreview | tuple[str, str]:
    """Parse JSON or JSON Lines (after measuring its depth) and show it as a table; (text head, note) when it is
    valid JSON that is not shown as a table."""
    if size > LIMITS.json_bytes:
        raise Refused(
            f"{name} is {format_size(size)} of JSON; the limit for JSON is {format_size(LIMITS.json_bytes)}.",
            "Save it as JSON Lines split into parts, or as CSV or Parquet.",
        )
    data = path.read_bytes()
    encoding = detect_encoding(data)
    if not data.strip():
        raise Refused(f"{name} is not valid JSON: it contains only blank space.", JSON_HINT)
    depth = json_depth(data)
    if depth > LIMITS.json_depth:
        return (
            text_head(data),
            f"JSON nested {depth:,} levels deep: too deep to show as a table (the limit is {LIMITS.json_depth}); "
            "shown as text.",
        )
    try:
        parsed = parse_json(encodings.decode(data, encoding))
    except (ValueError, RecursionError) as exc:
        raise Refused(f"{name} is not valid JSON: {short(exc)}.", JSON_HINT) from None
    try:
        frame, note = json_to_frame(parsed)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        return text_head(data), f"Valid JSON, not shown as a table: {short(exc)}."
    return frame_preview(frame, max_rows, note=note)
