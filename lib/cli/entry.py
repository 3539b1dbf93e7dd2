"""The headless command line: `ask` streams one analysis to the terminal, `check` runs golden questions,
`replay` asks a run's questions again on other files, `compare` reports what changed between two runs and
`runs` lists or searches the runs kept.

They use the app's settings, store and turn pipeline, so their runs show in the app.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from lib.cli import commands
from lib.cli.config import EXIT_FAILED, CliError
from lib.cli.terminal import SHORT_CODE_LINES
from lib.errors import describe

COMMANDS = {
    "ask": commands.ask_command,
    "check": commands.check_command,
    "replay": commands.replay_command,
    "compare": commands.compare_command,
    "runs": commands.runs_command,
}


def parser() -> argparse.ArgumentParser:
    """The command line's arguments."""
    description = " ".join((__doc__ or "").split("\n\n")[0].split())  # the docstring's first paragraph, whole
    top = argparse.ArgumentParser(prog="python -m lib.cli", description=description)
    sub = top.add_subparsers(dest="command", required=True)
    ask_p = sub.add_parser("ask", help="upload files, ask a question and stream the answer")
    ask_p.add_argument("files", nargs="+", metavar="FILE", help="files to attach")
    ask_p.add_argument("question", help="the question, in quotes")
    ask_p.add_argument("--out", type=Path, help="folder for the generated files (default ./outputs/<run id>)")
    check_p = sub.add_parser("check", help="run golden questions and report each expectation")
    check_p.add_argument("golden", help="a YAML file of golden questions")
    check_p.add_argument("--out", type=Path, help="keep each question's generated files in OUT/q<n>")
    check_p.add_argument(
        "--require-traced",
        action="store_true",
        help="fail a question whose answer quotes a number no code output showed, naming it",
    )
    replay_p = sub.add_parser("replay", help="ask a run's questions again on other files and report what changed")
    replay_p.add_argument("run", help="the run's id (or the start of it), or its name")
    replay_p.add_argument("files", nargs="+", metavar="FILE", help="one file in place of each of the run's files")
    replay_p.add_argument("--out", type=Path, help="folder for the generated files (default ./outputs/<run id>)")
    compare_p = sub.add_parser("compare", help="report what changed between two runs, question by question")
    compare_p.add_argument("before", help="the earlier run's id (or the start of it), or its name")
    compare_p.add_argument("after", help="the later run's id or name, such as a replay of the first")
    for p in (replay_p, compare_p):
        p.add_argument("--diff", action="store_true", help="print each code cell's output diff in full")
    for p in (ask_p, replay_p):
        shown = p.add_mutually_exclusive_group()
        shown.add_argument(
            "--full-code",
            action="store_true",
            help=f"print every code cell whole (default: its first {SHORT_CODE_LINES} lines)",
        )
        shown.add_argument("--no-code", action="store_true", help="leave code cells out (their output is printed)")
        shown.add_argument(
            "--quiet", "-q", action="store_true", help="print only the answer's text, its files and any problem"
        )
    runs_p = sub.add_parser("runs", help="list the runs kept, most recently active first, or search them")
    runs_p.add_argument(
        "--search",
        nargs="+",
        metavar="WORD",
        help="words of a run's name, questions or files' names, or a date: 2026-12-03, 2026-12, today, "
        "2026-12-01..2026-12-15",
    )
    runs_p.add_argument("--limit", type=int, default=50, help="list at most this many runs (default 50)")
    for p in (ask_p, check_p, replay_p, compare_p, runs_p):
        p.add_argument("--emulator", action="store_true", help="use the local emulator's store and analyst, not Claude")
    return top


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, out, err)
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
