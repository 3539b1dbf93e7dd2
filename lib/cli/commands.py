"""The commands: `ask`, `check`, `replay`, `compare` and `runs`. Each checks its arguments and the key first and
only then imports lib.cli.session (the SDK, pandas, SQLAlchemy), so a mistake is reported at once."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lib.cli.config import EXIT_FAILED, EXIT_OK, CliError, cli_settings
from lib.cli.terminal import printer
from lib.runs import golden

if TYPE_CHECKING:
    from lib.runs.diff import RunDiff


def code_mode(args: argparse.Namespace) -> str:
    """How code cells are printed, from --full-code, --no-code and --quiet (default: cut short)."""
    return "quiet" if args.quiet else "none" if args.no_code else "full" if args.full_code else "short"


def ask_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Upload files, ask, stream the answer and keep its files."""
    settings = cli_settings(args.emulator)
    from lib.cli import session

    store = session.open_store(settings)
    folder = args.out or (lambda run_id: Path("outputs") / run_id)
    show = printer(code_mode(args))
    answer = session.ask(store, settings, [Path(p) for p in args.files], args.question, folder, out, err, show)
    if answer.saved:
        err.write(f"saved {len(answer.saved)} file(s) to {answer.saved[0].parent}:\n")
        err.writelines(f"  {p.name}\n" for p in answer.saved)
    err.write(f"{session.run_summary(store, answer.run_id, settings)}\n")
    if answer.trace is not None:
        err.write(answer.trace.described + "\n")
    if answer.status != "done":
        err.write(f"run {answer.run_id} ended {answer.status}" + (f": {answer.error}" if answer.error else "") + "\n")
        return EXIT_FAILED
    where = "the app's offline demo" if settings.demo else "the app"
    err.write(f"run {answer.run_id} done; it shows in {where}\n")
    return EXIT_OK


def check_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run golden questions; one line per expectation."""
    try:
        questions = golden.load_golden(Path(args.golden))
    except golden.GoldenFileError as exc:
        raise CliError(f"{exc.message}\n{exc.hint}") from exc
    missing = [str(p) for q in questions for p in q.files if not p.is_file()]
    if missing:
        raise CliError("Files named in the golden file were not found: " + ", ".join(missing))
    settings = cli_settings(args.emulator)
    from lib.cli import session

    store = session.open_store(settings)
    failed = total = passed = 0
    for number, q in enumerate(questions, start=1):
        out.write(f"[{number}/{len(questions)}] {q.name}\n")
        out.flush()
        folder = (args.out / f"q{number}") if args.out else None
        answer = session.ask(store, settings, q.files, q.question, folder, _Discard(), err, lambda _i, _o: None)
        results = golden.check_answer(answer.text, answer.files, q.expect)
        if args.require_traced:
            results.append(golden.check_traced(answer.trace))
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


def replay_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Ask a run's questions again on other files, then report what changed."""
    settings = cli_settings(args.emulator)
    from lib.cli import session
    from lib.runs import jobs
    from lib.runs.view import load_comparison

    store = session.open_store(settings)
    original = session.find_run(store, args.run, settings)
    if len(args.files) != len(original.file_ids):
        raise CliError(
            f"Run {original.id} used {len(original.file_ids)} file(s); give one file in place of each, in the "
            f"order the run listed them ({len(args.files)} given)."
        )
    file_ids = session.upload_files(store, settings, [Path(p) for p in args.files], err)
    run = jobs.start_replay(store, settings, original.id, dict(zip(original.file_ids, file_ids, strict=True)))
    folder = args.out or (lambda run_id: Path("outputs") / run_id)
    answer = session.stream(store, run, folder, out, err, printer(code_mode(args)))
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


def compare_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Report what changed between two runs."""
    settings = cli_settings(args.emulator, need_key=False)
    from lib.cli import session
    from lib.runs.view import load_comparison

    store = session.open_store(settings)
    old, new = session.find_run(store, args.before, settings), session.find_run(store, args.after, settings)
    found = load_comparison(store, old.id, new.id, settings.prices)
    assert found is not None  # both were just read through the same store
    (old_label, new_label), (old_name, new_name) = found.labels, found.names
    out.write(f"{old_label}: {old_name} ({old.id})\n{new_label}: {new_name} ({new.id})\n")
    report(found.diff, found.labels, out, args.diff)
    return EXIT_FAILED if found.diff.problem else EXIT_OK


def runs_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """List the runs kept, or those a search finds."""
    if args.limit < 1:
        raise CliError(f"--limit {args.limit}: give the number of runs to list, 1 or more.")
    settings = cli_settings(args.emulator, need_key=False)
    from lib.cli import session
    from lib.runs import names

    store = session.open_store(settings)
    words = " ".join(args.search or [])
    found = names.find(store, words, limit=args.limit)
    where = "the offline demo's runs" if settings.demo else "this data directory"
    if not found:
        err.write(f"No run matches `{words}` in {where}.\n" if words else f"No runs in {where} yet.\n")
        return EXIT_OK
    out.writelines(session.run_line(e) + "\n" for e in found)
    more = " (the most recent; --limit shows more)" if len(found) == args.limit else ""
    err.write(f"{len(found)} run(s){more}\n")
    return EXIT_OK


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
            shown = [f.name if f else "(none)" for f in (old, new)]
            out.write(f"  chart: {shown[0]} | {shown[1]}\n")
    out.write(
        f"\n{diff.changed_numbers} quoted number(s) and {diff.changed_cells} code cell output(s) changed "
        f"over {len(diff.turns)} question(s)\n"
    )
    out.flush()


class _Discard(io.StringIO):
    """A text stream that keeps nothing written to it."""

    def write(self, _text: str) -> int:
        return 0
