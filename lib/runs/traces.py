"""The numbers of a turn's answer traced to the outputs that printed them: once, when the turn ends, and kept
with the turn for the page, the report and the command line."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from pathlib import Path

from lib.errors import NotAllowedError
from lib.files import preview, sandbox, uploads
from lib.files.file_numbers import generated_numbers
from lib.files.kinds import TABLE_KINDS
from lib.files.preview import TablePreview
from lib.storage import blobs
from lib.storage.records import FileRecord
from lib.storage.store import Store
from lib.tracing.records import TurnTrace
from lib.tracing.trace import trace_run
from lib.tracing.written import written_numbers
from lib.transcript import Item
from lib.turn.request import files_note

log = logging.getLogger(__name__)


def keep_trace(store: Store, data_dir: Path, run_id: str, idx: int) -> TurnTrace | None:
    """Trace turn `idx` of a run against its own outputs and those of the turns before, and keep the trace with
    the turn; None when the run is gone or not this owner's. Never raises: an answer whose numbers could not be traced is shown
    without the marks."""
    try:
        return _keep_trace(store, data_dir, run_id, idx)
    except Exception:  # the turn's answer is kept whatever happens to its trace
        log.exception("the numbers of turn %s of run %s could not be traced", idx, run_id)
        return None


def _keep_trace(store: Store, data_dir: Path, run_id: str, idx: int) -> TurnTrace | None:
    try:
        run = store.own_run(run_id)  # only the owner's worker keeps a trace; a reader's page reads the kept one
    except NotAllowedError:
        return None
    questions = {t.idx: t.question for t in store.turns(run_id) if t.idx <= idx}
    items: dict[int, list[Item]] = {i: [] for i in range(idx + 1)}
    for stored in store.items(run_id):
        if stored.turn_idx <= idx:
            items[stored.turn_idx].append(stored.item)
    turns = [(questions.get(i, ""), items[i]) for i in range(idx + 1)]
    files = generated_numbers(data_dir, (item for _, listed in turns for item in listed))
    records = [r for r in map(store.file, run.file_ids) if r is not None]
    trace = trace_run(turns, files, known_numbers(data_dir, records)).turns[idx]
    store.set_trace(run_id, idx, trace.to_dict())
    return trace


def known_numbers(data_dir: Path, records: Iterable[FileRecord]) -> list[int | str]:
    """The numbers the app itself gives about a run's files, not counted when an answer repeats them: what goes
    along with every question (the files note: each file's size, its table's stored profile and the analyst's
    notes) and, for a table kept from before profiles, its rows and columns as its preview counts them."""
    records = list(records)
    known: list[int | str] = [w.text for w in written_numbers(files_note(records))]
    for rec in records:
        if rec.profile is None and rec.kind in TABLE_KINDS and rec.local_path:
            known += _table_shape(str(blobs.path(data_dir, rec.local_path)), rec.filename, rec.kind, rec.sha256)
    return known


@functools.lru_cache(maxsize=256)
def _table_shape(path: str, name: str, kind: str, sha256: str) -> tuple[int, ...]:
    """Rows and columns of a table as its preview counts them (read in the sandbox, once per content)."""
    try:
        size = Path(path).stat().st_size
        found = sandbox.call(preview.inspect_path, Path(path), name, kind, 0, seconds=uploads.parse_seconds(size))
    except Exception:  # noqa: BLE001 - a table that cannot be read again just gives no numbers to leave out
        return ()
    return (found.rows, found.columns) if isinstance(found, TablePreview) else ()
