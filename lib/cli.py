"""The headless command line: `ask` streams one analysis to the terminal, `check` runs golden questions,
`replay` asks a run's questions again on other files and `compare` reports what changed between two runs.

They use the app's settings, store and turn pipeline, so their runs show in the app.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from lib import demo
from lib.client import make_client
from lib.errors import AppError, describe
from lib.files import kinds
from lib.files.library import upload_accepted
from lib.files.preview import format_size
from lib.files.uploads import Accepted, inspect_upload
from lib.runs import golden, jobs, recovery
from lib.runs.diff import RunDiff
from lib.runs.view import Follower, load_comparison
from lib.settings import Settings, SettingsError, load_settings, read_secrets
from lib.storage import blobs
from lib.storage.records import ArtifactFilter, RunRecord
from lib.storage.store import Store
from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
    ItemHandler,
    Notice,
    Output,
    RunError,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    dispatch,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
POLL_SECONDS = 0.1
BRIEF_CHARS = 200  # of Claude's reasoning, on one line


class CliError(Exception):
    """A problem the user must fix before anything can run; the message says what and how."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Answer:
    """What a finished run answered: its status, text, generated files and where they were copied."""

    run_id: str
    status: str
    text: str
    files: list[str] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)
    error: str = ""


def cli_settings(emulator: bool, environ: Mapping[str, str] | None = None, need_key: bool = True) -> Settings:
    """The app's settings; with `emulator`, pointed at an in-process emulator like the app's offline demo (and
    its store); `need_key` False: for reading the store only."""
    try:
        settings = load_settings(read_secrets(), os.environ if environ is None else environ)
    except SettingsError as err:
        raise CliError(f"{err.title}: {err.message}\n{err.hint}") from err
    if emulator:
        return settings.for_demo(demo.demo_url() if need_key else "")
    if need_key and not settings.has_key:
        raise CliError(
            "No Anthropic API key is configured. Set the ANTHROPIC_API_KEY environment variable or add it to "
            "`.streamlit/secrets.toml`, or pass --emulator to use the local emulator (not Claude)."
        )
    return settings


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
            else:
                yield item
            cursor, printed_text = cursor + 1, 0
        if finished:
            return
        time.sleep(poll)


def render(item: Item, out: TextIO) -> None:
    """Write one transcript item (or a piece of text) to the terminal."""
    dispatch(item, _Terminal(out))
    out.flush()


class _Terminal(ItemHandler[None]):
    """Writes each type of transcript item as plain text."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def text(self, item: Text) -> None:
        self.out.write(item.text)

    def thinking(self, item: Thinking) -> None:
        self.out.write(f"\n[reasoning] {_brief(item.text)}\n")

    def code(self, item: CodeCell) -> None:
        body = item.code or " ".join(x for x in (item.operation, item.path) if x)
        self.out.write(f"\n\n```{item.language or item.tool}\n{body.rstrip()}\n```\n")

    def output(self, item: Output) -> None:
        if item.stdout.strip():
            self.out.write(_fenced("output", item.stdout))
        if item.stderr.strip():
            self.out.write(_fenced("stderr", item.stderr))
        if item.return_code:
            self.out.write(f"(exit code {item.return_code})\n")

    def editor(self, item: EditorResult) -> None:
        if item.content:
            self.out.write(_fenced(f"{item.operation} result", item.content))

    def tool_error(self, item: ToolError) -> None:
        self.out.write(f"\n[tool error] {item.message} {item.hint}".rstrip() + "\n")

    def file(self, item: GeneratedFile) -> None:
        state = f"failed: {item.error}" if item.error else format_size(item.size_bytes)
        self.out.write(f"\n[file] {item.filename} ({state})\n")

    def notice(self, item: Notice) -> None:
        self.out.write(f"\n[{item.level}] {item.text}\n")

    def run_error(self, item: RunError) -> None:
        self.out.write(f"\n[error] {item.title}: {item.message} {item.hint}".rstrip() + "\n")

    def unsupported(self, item: Unsupported) -> None:
        self.out.write(f"\n[unsupported block] {item.block_type}: this version cannot show it; the app keeps it raw\n")


def _brief(text: str, limit: int = BRIEF_CHARS) -> str:
    """Text on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _fenced(label: str, text: str) -> str:
    return f"{label}:\n" + "".join(f"  {line}\n" for line in text.rstrip("\n").splitlines())


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
    answer.files, answer.saved = save_artifacts(store, run.id, out_dir(run.id) if callable(out_dir) else out_dir)
    return answer


def save_artifacts(store: Store, run_id: str, folder: Path | None) -> tuple[list[str], list[Path]]:
    """Copy a run's generated files to a folder (None: only list them); returns their names and the copies."""
    found, _ = store.artifacts(ArtifactFilter(run_id=run_id, limit=10_000))
    ordered = sorted(found, key=lambda a: (a.turn_idx, a.created_at, a.id))
    names = [a.filename for a in ordered]
    saved: list[Path] = []
    if folder is None:
        return names, saved
    for artifact, clean in zip(ordered, kinds.unique_names(names), strict=True):
        source = blobs.path(store.data_dir, artifact.path)
        if not source.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / clean
        shutil.copyfile(source, target)
        saved.append(target)
    return names, saved


def _ask_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = cli_settings(args.emulator)
    store = open_store(settings)
    folder = args.out or (lambda run_id: Path("outputs") / run_id)
    answer = ask(store, settings, [Path(p) for p in args.files], args.question, folder, out, err)
    if answer.saved:
        err.write(f"saved {len(answer.saved)} file(s) to {answer.saved[0].parent}:\n")
        err.writelines(f"  {p.name}\n" for p in answer.saved)
    if answer.status != "done":
        err.write(f"run {answer.run_id} ended {answer.status}" + (f": {answer.error}" if answer.error else "") + "\n")
        return EXIT_FAILED
    where = "the app's offline demo" if settings.demo else "the app"
    err.write(f"run {answer.run_id} done; it shows in {where}\n")
    return EXIT_OK


def find_run(store: Store, ref: str, demo_runs: bool) -> RunRecord:
    """A run of the store's owner by its id or the start of it (as `ask` printed it)."""
    run = store.run(ref)
    if run is not None:
        return run
    found = store.find_runs(ref) if len(ref) >= 4 else []
    if len(found) == 1:
        return found[0]
    where = "the offline demo's runs (--emulator)" if demo_runs else "this data directory"
    if not found:
        raise CliError(f"No run `{ref}` in {where}. Copy a run id from `ask`'s output or the app's URL (?run=…).")
    raise CliError(f"`{ref}` starts more than one run id; give more of it.")


def report(diff: RunDiff, labels: tuple[str, str], out: TextIO, full: bool = False) -> None:
    """What changed between two runs, question by question: quoted numbers, code cell output, charts."""
    if diff.problem:
        out.write(f"\n{diff.problem}\n")
        out.flush()
        return
    for turn in diff.turns:
        out.write(f"\nQuestion {turn.idx + 1}: {turn.new_question or turn.old_question}\n")
        for missing, label in ((turn.old_question, labels[0]), (turn.new_question, labels[1])):
            if missing is None:
                out.write(f"  not asked in the {label.lower()}\n")
        for n in turn.changed_numbers:
            relative = f", {n.relative_text}" if n.relative_text else ""
            out.write(f"  {n.where}: {n.old.text} → {n.new.text} ({n.change_text}{relative})\n")
        same = len(turn.numbers) - len(turn.changed_numbers)
        out.write(f"  {len(turn.changed_numbers)} quoted number(s) changed, {same} the same\n")
        for quoted, label in ((turn.only_old, labels[0]), (turn.only_new, labels[1])):
            if quoted:
                out.write(f"  only the {label.lower()} quotes: " + "; ".join(q.text for q in quoted[:12]) + "\n")
        for cell in turn.cells:
            if cell.same:
                out.write(f"  cell {cell.number}: same output\n")
                continue
            changed = sum(1 for line in cell.diff[2:] if line[:1] in "+-" and not line.startswith("@@"))
            out.write(f"  cell {cell.number}: output differs ({changed} line(s))\n")
            if full:
                out.writelines(f"    {line}\n" for line in cell.diff)
        for old, new in turn.figures:
            names = [f.name if f else "(none)" for f in (old, new)]
            out.write(f"  chart: {names[0]} | {names[1]}\n")
    out.write(
        f"\n{diff.changed_numbers} quoted number(s) and {diff.changed_cells} code cell output(s) changed "
        f"over {len(diff.turns)} question(s)\n"
    )
    out.flush()


def _replay_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = cli_settings(args.emulator)
    store = open_store(settings)
    original = find_run(store, args.run, settings.demo)
    if len(args.files) != len(original.file_ids):
        raise CliError(
            f"Run {original.id} used {len(original.file_ids)} file(s); give one file in place of each, in the "
            f"order the run listed them ({len(args.files)} given)."
        )
    file_ids = upload_files(store, settings, [Path(p) for p in args.files], err)
    run = jobs.start_replay(store, settings, original.id, dict(zip(original.file_ids, file_ids, strict=True)))
    folder = args.out or (lambda run_id: Path("outputs") / run_id)
    answer = stream(store, run, folder, out, err)
    found = load_comparison(store, original.id, run.id, settings.prices)
    if found is not None:
        report(found.diff, found.labels, out, args.diff)
    if answer.status != "done":
        err.write(
            f"replay {answer.run_id} ended {answer.status}" + (f": {answer.error}" if answer.error else "") + "\n"
        )
        return EXIT_FAILED
    err.write(f"replay {answer.run_id} of run {original.id} done; compare them in the app's Compare page\n")
    return EXIT_OK


def _compare_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    settings = cli_settings(args.emulator, need_key=False)
    store = open_store(settings)
    old, new = find_run(store, args.before, settings.demo), find_run(store, args.after, settings.demo)
    found = load_comparison(store, old.id, new.id, settings.prices)
    assert found is not None  # both were just read through the same store
    (old_label, new_label), (old_title, new_title) = found.labels, found.titles
    out.write(f"{old_label}: {old_title} ({old.id})\n{new_label}: {new_title} ({new.id})\n")
    report(found.diff, found.labels, out, args.diff)
    return EXIT_FAILED if found.diff.problem else EXIT_OK


def _check_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        questions = golden.load_golden(Path(args.golden))
    except golden.GoldenFileError as exc:
        raise CliError(f"{exc.message}\n{exc.hint}") from exc
    missing = [str(p) for q in questions for p in q.files if not p.is_file()]
    if missing:
        raise CliError("Files named in the golden file were not found: " + ", ".join(missing))
    settings = cli_settings(args.emulator)
    store = open_store(settings)
    failed = 0
    total = passed = 0
    quiet = _Discard()
    for number, q in enumerate(questions, start=1):
        out.write(f"[{number}/{len(questions)}] {q.name}\n")
        out.flush()
        folder = (args.out / f"q{number}") if args.out else None
        answer = ask(store, settings, q.files, q.question, folder, quiet, err, on_item=lambda _i, _o: None)
        results = golden.check_answer(answer.text, answer.files, q.expect)
        if answer.status != "done":
            results.insert(0, golden.CheckResult(False, "run finishes", f"ended {answer.status}: {answer.error}"))
        for r in results:
            out.write(f"  {'PASS' if r.passed else 'FAIL'}  {r.expectation} — {r.found}\n")
        ok, count = golden.summary(results)
        passed, total = passed + ok, total + count
        failed += ok < count
        out.write(f"  run {answer.run_id}: {ok}/{count} passed\n")
        out.flush()
    verdict = "all passed" if not failed else f"{failed} of {len(questions)} question(s) failed"
    out.write(f"{passed}/{total} expectations passed; {verdict}\n")
    return EXIT_FAILED if failed else EXIT_OK


class _Discard(io.StringIO):
    """A text stream that keeps nothing written to it."""

    def write(self, _text: str) -> int:
        return 0


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    top = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    ask_p = sub.add_parser("ask", help="upload files, ask a question and stream the answer")
    ask_p.add_argument("files", nargs="+", metavar="FILE", help="files to attach")
    ask_p.add_argument("question", help="the question, in quotes")
    ask_p.add_argument("--out", type=Path, help="folder for the generated files (default ./outputs/<run id>)")
    check_p = sub.add_parser("check", help="run golden questions and report each expectation")
    check_p.add_argument("golden", help="a YAML file of golden questions")
    check_p.add_argument("--out", type=Path, help="keep each question's generated files in OUT/q<n>")
    replay_p = sub.add_parser("replay", help="ask a run's questions again on other files and report what changed")
    replay_p.add_argument("run", help="the run's id (or the start of it)")
    replay_p.add_argument("files", nargs="+", metavar="FILE", help="one file in place of each of the run's files")
    replay_p.add_argument("--out", type=Path, help="folder for the generated files (default ./outputs/<run id>)")
    compare_p = sub.add_parser("compare", help="report what changed between two runs, question by question")
    compare_p.add_argument("before", help="the earlier run's id (or the start of it)")
    compare_p.add_argument("after", help="the later run's id, such as a replay of the first")
    for p in (replay_p, compare_p):
        p.add_argument("--diff", action="store_true", help="print each code cell's output diff in full")
    for p in (ask_p, check_p, replay_p, compare_p):
        p.add_argument("--emulator", action="store_true", help="use the local emulator's store and analyst, not Claude")
    return top


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    args = parser().parse_args(argv)
    try:
        command = {"ask": _ask_command, "check": _check_command, "replay": _replay_command, "compare": _compare_command}
        return command[args.command](args, out, err)
    except CliError as exc:
        err.write(f"error: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        err.write("stopped\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure is said plainly, not as a traceback
        problem = describe(exc)
        err.write(f"error: {problem.title}: {problem.message}\n{problem.hint}\n")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
