"""How the command line writes transcript items: every type through the one dispatch, code cells in full, cut
short, as one line, or left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TextIO

from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
    ItemHandler,
    Notice,
    Output,
    Query,
    RunError,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    dispatch,
)

BRIEF_CHARS = 200  # of Claude's reasoning, on one line
SHORT_CODE_LINES = 8  # of each code cell `ask` prints by default
CODE_MODES = ("full", "short", "none", "quiet")


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
        from lib.files.preview import format_size  # pandas comes with it: only once a run has files

        state = f"failed: {item.error}" if item.error else format_size(item.size_bytes)
        self.out.write(f"\n[file] {item.filename} ({state})\n")

    def notice(self, item: Notice) -> None:
        self.out.write(f"\n[{item.level}] {item.text}\n")

    def run_error(self, item: RunError) -> None:
        self.out.write(f"\n[error] {item.title}: {item.message} {item.hint}".rstrip() + "\n")

    def unsupported(self, item: Unsupported) -> None:
        self.out.write(f"\n[unsupported block] {item.block_type}: this version cannot show it; the app keeps it raw\n")

    def query(self, item: Query) -> None:
        self.out.write(f"\n[sql {item.source}] {_brief(item.sql)} -> {item.outcome}\n")
        if item.error:
            self.out.write(f"  {item.error} {item.hint}".rstrip() + "\n")


def _brief(text: str, limit: int = BRIEF_CHARS) -> str:
    """Text on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _fenced(label: str, text: str) -> str:
    return f"{label}:\n" + "".join(f"  {line}\n" for line in text.rstrip("\n").splitlines())


def printer(code: str) -> Callable[[Item, TextIO], None]:
    """How `ask` and `replay` print items: `code` is "full" (every code cell whole), "short" (each cell's first
    lines and how many more), "none" (a cell as one line, its output in full) or "quiet" (the answer's text,
    files and problems only)."""

    def show(item: Item, out: TextIO) -> None:
        if isinstance(item, CodeCell) and code != "full":
            lines = (item.code or "").rstrip("\n").splitlines()
            if code == "quiet":
                return
            if code == "none" or not lines:
                label = item.language or item.tool
                out.write(f"\n[{label} cell, {len(lines)} line{'s' * (len(lines) != 1)}]\n")
                return
            if len(lines) > SHORT_CODE_LINES:
                more = len(lines) - SHORT_CODE_LINES
                item = replace(
                    item, code="\n".join([*lines[:SHORT_CODE_LINES], f"# … {more} more lines (--full-code)"])
                )
        elif isinstance(item, (Output, EditorResult, Thinking)) and code == "quiet":
            return
        render(item, out)

    return show
