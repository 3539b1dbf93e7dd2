"""Script steps: what the scripted analyst says and does in one assistant turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .turn import Turn

ToolName = Literal["code_execution", "bash_code_execution", "text_editor_code_execution"]


@dataclass
class Text:
    """Assistant text, streamed as a few words per delta."""

    text: str


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

    build: Callable[[Turn], list[Step]] = field(repr=False)


Step = Text | Python | Bash | Edit | Pause | ToolFailure | RawBlock | Later

CODE_STEPS = (Python, Bash, Edit)


def runs_code(steps: list[Step]) -> bool:
    """Whether a script calls a code-execution tool (unknown for `Later` steps, assumed yes)."""
    return any(isinstance(s, (*CODE_STEPS, ToolFailure, Later)) for s in steps)
