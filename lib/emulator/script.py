"""Script steps: what the scripted analyst says and does in one assistant turn, and what a step decided only
when it is reached can read of the response so far. Scripts (and the demo analyst) need nothing else."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

ToolName = Literal["code_execution", "bash_code_execution", "text_editor_code_execution"]
OUTPUTS = "outputs"  # the container's folder for files the code makes (its `OUTPUT_DIR`), under its workdir


class Workdir(Protocol):
    """A container, as a script sees it."""

    @property
    def workdir(self) -> Path: ...


class Ran(Protocol):
    """What one code step of the response printed and how it ended."""

    @property
    def stdout(self) -> str: ...

    @property
    def stderr(self) -> str: ...

    @property
    def return_code(self) -> int: ...


class Progress(Protocol):
    """The response being played, as a `Later` step reads it: its container, what its code printed so far, the
    client tools its code may await (programmatic tool calling) and the request's system prompt."""

    @property
    def container(self) -> Workdir | None: ...

    @property
    def tools(self) -> list[str]: ...

    @property
    def system(self) -> str: ...

    @property
    def stdout(self) -> str: ...

    @property
    def records(self) -> Sequence[Ran]: ...


@dataclass
class Text:
    """Assistant text, streamed as a few words per delta; `citations` (API citation objects such as
    `char_location`) stream as `citations_delta`s before the text and end up in the block's `citations`."""

    text: str
    citations: list[dict[str, Any]] | None = None


@dataclass
class Python:
    """Python code that really runs in the container."""

    code: str


@dataclass
class Bash:
    """A bash command that really runs in the container."""

    command: str


@dataclass
class Edit:
    """A text-editor operation on a real file in the container."""

    command: Literal["view", "create", "str_replace"]
    path: str
    file_text: str | None = None
    old_str: str | None = None
    new_str: str | None = None


@dataclass
class Pause:
    """End the response here with stop_reason `pause_turn`; the rest plays on continuation."""


@dataclass
class ToolFailure:
    """A tool call whose result is the tool's error block."""

    tool: ToolName
    error_code: str
    error_message: str | None = None
    input: dict[str, Any] | None = None


@dataclass
class RawBlock:
    """An arbitrary content block emitted verbatim (unknown types, encrypted results, …)."""

    block: dict[str, Any]


@dataclass
class Later:
    """Steps decided only when reached, from what earlier steps of the turn produced."""

    build: Callable[[Progress], list[Step]] = field(repr=False)


Step = Text | Python | Bash | Edit | Pause | ToolFailure | RawBlock | Later

CODE_STEPS = (Python, Bash, Edit)


def runs_code(steps: list[Step]) -> bool:
    """Whether a script calls a code-execution tool (unknown for `Later` steps, assumed yes)."""
    return any(isinstance(s, (*CODE_STEPS, ToolFailure, Later)) for s in steps)


# Plans the steps of a turn no script was queued for, from the question and the filenames uploaded with it.
# Steps that depend on the container (its files, earlier outputs) are `Later` steps that read its Progress.
Planner = Callable[[str, list[str]], list[Step]]


def held_script(
    planner: Planner, question: str, uploaded: list[str], gate: threading.Event, timeout: float = 120.0
) -> list[Step]:
    """The planner's steps, held after the first one until `gate` is set (to act on a run mid-way)."""
    rest: list[Step] = []

    def first(turn: Progress) -> list[Step]:
        steps = planner(question, uploaded)
        while steps and isinstance(steps[0], Later):
            steps[:1] = steps[0].build(turn)
        rest[:] = steps[1:]
        return steps[:1]

    def after_gate(turn: Progress) -> list[Step]:
        gate.wait(timeout)
        return list(rest)

    return [Later(first), Later(after_gate)]
