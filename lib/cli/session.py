"""What the commands do with the app's store and turn pipeline: upload, start, follow and stream a run, copy its
files, find a run by id or name. Importing this loads the SDK, pandas and SQLAlchemy (seconds): commands import it
only once their arguments and the key are checked."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lib.cli.config import EXIT_FAILED, CliError
from lib.cli.terminal import render
from lib.client import make_client
from lib.cost import model_label, usage_text
from lib.errors import AppError
from lib.files import kinds
from lib.files.library import upload_accepted
from lib.files.preview import format_size
from lib.files.uploads import Accepted, inspect_upload
from lib.runs import jobs, names, recovery
from lib.runs.view import Follower, kept_trace, load_run_view
from lib.settings import Settings
from lib.storage import blobs, db
from lib.storage.records import ArtifactFilter, RunRecord
from lib.storage.store import Store
from lib.tracing.records import RunTrace
from lib.transcript import CodeCell, Item, Query, Text

POLL_SECONDS = 0.1


@dataclass
class Answer:
    """What a finished run answered: its status, text, generated files and where they were copied."""

    run_id: str
    status: str
    text: str
    files: list[str] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)
    error: str = ""
    trace: RunTrace | None = None  # its numbers traced to the outputs that showed them


def open_store(settings: Settings) -> Store:
    """The app's store for these settings, as the single local owner (the app without sign-in)."""
    blobs.configure(settings.data_dir, settings.blob_url)
    store = Store(settings.data_dir, url=settings.database_url)
    recovery.recover(store)
    return store


def upload_files(store: Store, settings: Settings, paths: list[Path], err: TextIO) -> list[str]:
    """Check and upload files the way the Files page does, showing progress; returns their file ids."""
    client = make_client(settings)
    ids: list[str] = []
    for number, path in enumerate(paths, start=1):
        prefix = f"[{number}/{len(paths)}] {path.name}"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CliError(f"{path}: cannot be read ({exc.strerror or exc}). Check the path and try again.") from exc
        err.write(f"{prefix}: checking {format_size(len(data))}…")
        err.flush()
        verdict = inspect_upload(path.name, data, settings.max_upload_bytes, data_dir=settings.data_dir).verdict
        if not isinstance(verdict, Accepted):
            err.write(" refused\n")
            raise CliError(f"{path}: {verdict.reason}\n{verdict.hint}")
        err.write(" uploading…")
        err.flush()
        started = time.monotonic()
        result = upload_accepted(client, store, settings.data_dir, verdict)
        if result.error is not None or result.record is None:
            err.write(" failed\n")
            problem = result.error or AppError("Upload failed", "The file was not stored.", "Try again.")
            raise CliError(f"{path}: {problem.title}: {problem.message}\n{problem.hint}", EXIT_FAILED)
        how = "already in the library" if result.reused else f"done in {time.monotonic() - started:.1f} s"
        err.write(f" {how} ({result.record.id})\n")
        err.flush()
        ids.append(result.record.id)
    return ids


def follow(store: Store, run_id: str, poll: float = POLL_SECONDS) -> Iterator[Item]:
    """A run's transcript items as they settle in the store, in order (text in growing pieces), until it ends."""
    cursor, printed_text = 0, 0
    follower = Follower(run_id)  # each poll reads only the items written since the one before
    while True:
        follower.mark(store)
        run = store.run(run_id)
        finished = run is None or not run.active
        follower.poll(store)
        listed = follower.items
        while cursor < len(listed):
            item, later = listed[cursor], cursor + 1 < len(listed)
            if isinstance(item, Text):
                if len(item.text) > printed_text:
                    yield Text(text=item.text[printed_text:])
                    printed_text = len(item.text)
                if not (later or finished):
                    break
            elif isinstance(item, CodeCell) and not (item.complete or later or finished):
                break
            elif isinstance(item, Query) and item.running and not (later or finished):
                break
            else:
                yield item
            cursor, printed_text = cursor + 1, 0
        if finished:
            return
        follower.wait(store, poll)  # until the run changes; `poll` only where changes are not signalled


def ask(
    store: Store,
    settings: Settings,
    paths: list[Path],
    question: str,
    out_dir: Path | Callable[[str], Path] | None,
    out: TextIO,
    err: TextIO,
    on_item: Callable[[Item, TextIO], None] = render,
) -> Answer:
    """Upload files, start a run on the store, stream it to `out` and copy its generated files to `out_dir`
    (a folder, or a function of the run id giving one; None: not copied)."""
    file_ids = upload_files(store, settings, paths, err)
    run = jobs.new_run(store, settings, question, file_ids)
    return stream(store, run, out_dir, out, err, on_item)


def stream(
    store: Store,
    run: RunRecord,
    out_dir: Path | Callable[[str], Path] | None,
    out: TextIO,
    err: TextIO,
    on_item: Callable[[Item, TextIO], None] = render,
) -> Answer:
    """Stream a started run to `out` until it ends (Ctrl-C stops it) and copy its generated files to `out_dir`."""
    err.write(f"run {run.id} started\n")
    err.flush()
    parts: list[str] = []
    after_text = True  # a text after other items starts on a line of its own
    try:
        for item in follow(store, run.id):
            if isinstance(item, Text):
                if not after_text:
                    on_item(Text(text="\n"), out)
                parts.append(item.text)
            after_text = isinstance(item, Text)
            on_item(item, out)
    except KeyboardInterrupt:
        jobs.stop(run.id, store)  # what arrived so far is kept, as with the app's Stop button
        jobs.wait(run.id, timeout=10.0, store=store)
        raise
    out.write("\n")
    out.flush()
    jobs.wait(run.id, timeout=30.0, store=store)
    final = store.run(run.id)
    answer = Answer(run.id, final.status if final else "error", "".join(parts), error=final.error if final else "")
    answer.trace = kept_trace(store, run.id)
    answer.files, answer.saved = save_artifacts(store, run.id, out_dir(run.id) if callable(out_dir) else out_dir)
    return answer


def save_artifacts(store: Store, run_id: str, folder: Path | None) -> tuple[list[str], list[Path]]:
    """Copy a run's generated files to a folder (None: only list them); returns their names and the copies."""
    found, _ = store.artifacts(ArtifactFilter(run_id=run_id, limit=10_000))
    ordered = sorted(found, key=lambda a: (a.turn_idx, a.created_at, a.id))
    names_ = [a.filename for a in ordered]
    saved: list[Path] = []
    if folder is None:
        return names_, saved
    for artifact, clean in zip(ordered, kinds.unique_names(names_), strict=True):
        source = blobs.path(store.data_dir, artifact.path)
        if not source.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / clean
        shutil.copyfile(source, target)
        saved.append(target)
    return names_, saved


def run_summary(store: Store, run_id: str, settings: Settings) -> str:
    """The model (or 'demo'), tokens, code executions and estimated cost of a run, as one line."""
    view = load_run_view(store, run_id, settings.prices)
    if view is None:
        return ""
    return usage_text(view.usage, view.cost, view.run.demo, model_label(view.run.model, view.run.demo))


def find_run(store: Store, ref: str, settings: Settings) -> RunRecord:
    """A run of the store's owner by its id, the start of it (as `ask` printed it) or its name, when only one run
    answers to it; when none does, the message names the data directory looked in, and the other one (the
    app's or the offline demo's)."""
    found = names.matching(store, ref)
    if len(found) == 1:
        return found[0]
    if found:
        listed = "".join(f"\n  {run_line(e)}" for e in names.entries(store, found))
        raise CliError(f"`{ref}` could be any of {len(found)} runs:{listed}\nGive more of the id of the one you mean.")
    if settings.demo:
        where, other_name, other_dir = "the offline demo's runs", "the app's runs", settings.data_dir.parent
    else:
        where, other_name, other_dir = "the app's runs", "the offline demo's runs", settings.data_dir / "demo"
    flag = "without --emulator" if settings.demo else "with --emulator"
    message = f"No run `{ref}` in {where} ({settings.data_dir})."
    looked = (other_dir / db.SQLITE_NAME).is_file()
    if looked and names.matching(Store(other_dir), ref):
        message += f" It is in {other_name} ({other_dir}): run the command again {flag}."
    elif looked:
        message += f" Nor is it in {other_name} ({other_dir})."
    else:
        message += f" {other_name.capitalize()} are in {other_dir} ({flag})."
    listing = f"python -m lib.cli runs{' --emulator' if settings.demo else ''}"
    raise CliError(
        message + " Give a run's name, or its id from `ask`'s output or the app's URL (?run=…); "
        f"`{listing}` lists them, or set ANALYST_DATA_DIR to the data directory the run was made in."
    )


def run_line(entry: names.RunEntry) -> str:
    """One run as `runs` lists it: id, start, status, name and files."""
    return f"{entry.run.id[:8]}  {entry.started}  {entry.run.status:<11}  {entry.run.name}  ({entry.files_text})"
