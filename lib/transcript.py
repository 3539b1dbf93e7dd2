"""The project's own transcript model and the pure builders that make it from API content."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Generic, TypeVar, assert_never, get_args

TOOL_LANGUAGE = {
    "code_execution": "python",
    "bash_code_execution": "bash",
    "text_editor_code_execution": "text",
}
# blocks that arrive in pieces; every other block type arrives whole in its content_block_start
STREAMED_BLOCKS = {"text", "thinking", "server_tool_use"}
RESULT_TYPES = {
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
}
ERROR_HINTS = {
    "invalid_tool_input": "Claude sent input the tool could not accept; it usually retries by itself.",
    "unavailable": "The code execution service was unavailable; try the question again in a moment.",
    "too_many_requests": "The code execution service is rate limited; wait a little and try again.",
    "execution_time_exceeded": "The code ran past the time limit; ask for a smaller step or a sample of the data.",
    "output_file_too_large": "A file the code wrote was too large to return; ask for a smaller output.",
    "file_not_found": "The file the editor was asked to open does not exist in the container.",
}


@dataclass
class ItemBase:
    """Base of every transcript item; `kind` names the concrete type when stored."""

    kind: ClassVar[str] = "item"

    def to_dict(self) -> dict[str, Any]:
        """Serialisable form, tagged with its kind."""
        return {"kind": self.kind, **asdict(self)}


@dataclass
class Text(ItemBase):
    """Claude's prose, markdown."""

    kind: ClassVar[str] = "text"
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Thinking(ItemBase):
    """Claude's visible reasoning, if the model returned any."""

    kind: ClassVar[str] = "thinking"
    text: str = ""


@dataclass
class CodeCell(ItemBase):
    """One call of a code-execution sub-tool: Python, a bash command, or a text-editor operation."""

    kind: ClassVar[str] = "code"
    tool_use_id: str = ""
    tool: str = ""
    language: str = "python"
    code: str = ""
    operation: str = ""
    path: str = ""
    old_str: str = ""
    new_str: str = ""
    complete: bool = False


@dataclass
class Output(ItemBase):
    """What a Python or bash call printed, its return code and the files it made."""

    kind: ClassVar[str] = "output"
    tool_use_id: str = ""
    stdout: str = ""
    stderr: str = ""
    return_code: int = 0
    file_ids: list[str] = field(default_factory=list)
    encrypted: bool = False


@dataclass
class Query(ItemBase):
    """One SQL query the code asked a source for (programmatic tool calling), inside the code cell that made it.

    `running` while the app runs it; then rows returned, the result's columns, time taken, whether the rows were
    cut at a limit (and why), or the error the code got back."""

    kind: ClassVar[str] = "query"
    tool_use_id: str = ""  # the client tool call
    code_tool_use_id: str = ""  # the code cell that made it (its server_tool_use id)
    source: str = ""
    sql: str = ""
    running: bool = False
    row_count: int = 0
    columns: list[str] = field(default_factory=list)
    seconds: float = 0.0
    truncated: bool = False
    note: str = ""
    error_kind: str = ""
    error: str = ""
    hint: str = ""

    @property
    def outcome(self) -> str:
        """What came back, in a few words: "12 rows in 0.03 s", the error's kind, or "running…"."""
        if self.running:
            return "running…"
        took = f"in {duration(self.seconds)}"
        if self.error_kind:
            return f"{self.error_kind.replace('_', ' ')} error {took}"
        cut = " (cut at a limit)" if self.truncated else ""
        return f"{self.row_count:,} row{'s' * (self.row_count != 1)} {took}{cut}"


@dataclass
class EditorResult(ItemBase):
    """The result of a text-editor operation (view, create, str_replace)."""

    kind: ClassVar[str] = "editor"
    tool_use_id: str = ""
    operation: str = ""
    file_type: str = ""
    content: str = ""
    num_lines: int | None = None
    start_line: int | None = None
    total_lines: int | None = None
    is_file_update: bool | None = None
    lines: list[str] = field(default_factory=list)


@dataclass
class ToolError(ItemBase):
    """An error block returned by a code-execution sub-tool."""

    kind: ClassVar[str] = "tool_error"
    tool_use_id: str = ""
    tool: str = ""
    error_code: str = ""
    message: str = ""
    hint: str = ""


@dataclass
class GeneratedFile(ItemBase):
    """A file the code produced, downloaded and kept locally (path relative to the data directory)."""

    kind: ClassVar[str] = "file"
    file_id: str = ""
    filename: str = ""
    mime_type: str = ""
    size_bytes: int = 0
    path: str = ""
    tool_use_id: str = ""
    error: str = ""
    retryable: bool = False


@dataclass
class Notice(ItemBase):
    """Something the app did on the user's behalf, said in the transcript."""

    kind: ClassVar[str] = "notice"
    text: str = ""
    level: str = "info"


@dataclass
class RunError(ItemBase):
    """A failure of the request itself, with what the user can do about it."""

    kind: ClassVar[str] = "error"
    title: str = ""
    message: str = ""
    hint: str = ""
    retryable: bool = False


@dataclass
class Unsupported(ItemBase):
    """A content block this version does not know how to show; kept raw rather than dropped."""

    kind: ClassVar[str] = "unsupported"
    block_type: str = ""
    raw: str = ""


# every transcript item is one of these; `dispatch` and `ItemHandler` cover each, so adding one to this union
# fails type-checking wherever it is not handled
Item = (
    Text
    | Thinking
    | CodeCell
    | Output
    | EditorResult
    | ToolError
    | GeneratedFile
    | Notice
    | RunError
    | Unsupported
    | Query
)

ITEM_TYPES: dict[str, type[Item]] = {cls.kind: cls for cls in get_args(Item)}

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class ItemHandler(ABC, Generic[R_co]):
    """What one consumer does with each type of transcript item: one method per type, all required, so a
    handler missing one can neither be made nor pass mypy."""

    @abstractmethod
    def text(self, item: Text) -> R_co: ...

    @abstractmethod
    def thinking(self, item: Thinking) -> R_co: ...

    @abstractmethod
    def code(self, item: CodeCell) -> R_co: ...

    @abstractmethod
    def output(self, item: Output) -> R_co: ...

    @abstractmethod
    def editor(self, item: EditorResult) -> R_co: ...

    @abstractmethod
    def tool_error(self, item: ToolError) -> R_co: ...

    @abstractmethod
    def file(self, item: GeneratedFile) -> R_co: ...

    @abstractmethod
    def notice(self, item: Notice) -> R_co: ...

    @abstractmethod
    def run_error(self, item: RunError) -> R_co: ...

    @abstractmethod
    def unsupported(self, item: Unsupported) -> R_co: ...

    @abstractmethod
    def query(self, item: Query) -> R_co: ...


def dispatch(item: Item, handler: ItemHandler[R]) -> R:
    """The handler's method for the item's type, called with the item."""
    match item:
        case Text():
            return handler.text(item)
        case Thinking():
            return handler.thinking(item)
        case CodeCell():
            return handler.code(item)
        case Output():
            return handler.output(item)
        case EditorResult():
            return handler.editor(item)
        case ToolError():
            return handler.tool_error(item)
        case GeneratedFile():
            return handler.file(item)
        case Notice():
            return handler.notice(item)
        case RunError():
            return handler.run_error(item)
        case Unsupported():
            return handler.unsupported(item)
        case Query():
            return handler.query(item)
        case _:
            assert_never(item)


def item_from_dict(data: dict[str, Any]) -> Item:
    """Rebuild an item from `to_dict` output, ignoring fields this version does not know."""
    cls = ITEM_TYPES.get(data.get("kind", ""))
    if cls is None:
        return Unsupported(block_type=str(data.get("kind")), raw=json.dumps(data))
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Usage:
    """Token and server-tool counts of one or more API responses."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    code_execution_requests: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Usage)))


# --- building items from complete content blocks -------------------------------------------
# Blocks are the API's (or an emulator's) JSON: every field is read as the type it should have, so a block
# of an unexpected shape becomes an item with empty fields, or an Unsupported one, never an exception.


def _text(value: Any) -> str:
    """A field that should be text."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)


def _whole(value: Any) -> int | None:
    """A field that should be a whole number (a count, a line number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _return_code(value: Any) -> int:
    """An exit status: a whole number, else 0 when missing and 1 when it is something else."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        return int(value)
    return 1


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def code_cell(block: dict[str, Any], complete: bool = True) -> CodeCell:
    """A `server_tool_use` block as a code cell."""
    name = _text(block.get("name"))
    data = _dict(block.get("input"))
    cell = CodeCell(
        tool_use_id=_text(block.get("id")), tool=name, language=TOOL_LANGUAGE.get(name, "text"), complete=complete
    )
    if name == "code_execution":
        cell.code = _text(data.get("code"))
    elif name == "bash_code_execution":
        cell.code = _text(data.get("command"))
    elif name == "text_editor_code_execution":
        cell.operation = _text(data.get("command"))
        cell.path = _text(data.get("path"))
        cell.code = _text(data.get("file_text"))
        cell.old_str = _text(data.get("old_str"))
        cell.new_str = _text(data.get("new_str"))
        cell.language = language_for_path(cell.path)
    else:
        cell.code = json.dumps(data, indent=2, default=str)
    return cell


def language_for_path(path: str) -> str:
    """Syntax-highlighting language for a file the editor touches."""
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return {
        "py": "python",
        "sh": "bash",
        "json": "json",
        "md": "markdown",
        "sql": "sql",
        "csv": "text",
        "yaml": "yaml",
        "yml": "yaml",
        "html": "html",
        "js": "javascript",
    }.get(ext, "text")


def result_item(block: dict[str, Any], tool_names: dict[str, str] | None = None) -> Item:
    """A tool-result block as an Output, EditorResult or ToolError."""
    btype = _text(block.get("type"))
    tool_use_id = _text(block.get("tool_use_id"))
    tool = btype.removesuffix("_tool_result")
    if tool_names and tool_use_id in tool_names:
        tool = tool_names[tool_use_id]
    content = _dict(block.get("content"))
    ctype = _text(content.get("type"))
    if ctype.endswith("_error"):
        code = _text(content.get("error_code")) or "unknown"
        return ToolError(
            tool_use_id=tool_use_id,
            tool=tool,
            error_code=code,
            message=_text(content.get("error_message")),
            hint=ERROR_HINTS.get(code, ""),
        )
    if ctype in ("code_execution_result", "bash_code_execution_result", "encrypted_code_execution_result"):
        encrypted = ctype == "encrypted_code_execution_result"
        return Output(
            tool_use_id=tool_use_id,
            stdout="" if encrypted else _text(content.get("stdout")),
            stderr=_text(content.get("stderr")),
            return_code=_return_code(content.get("return_code")),
            file_ids=[
                _text(c["file_id"]) for c in _list(content.get("content")) if isinstance(c, dict) and c.get("file_id")
            ],
            encrypted=encrypted,
        )
    if ctype.startswith("text_editor_code_execution_") and ctype.endswith("_result"):
        op = ctype.removeprefix("text_editor_code_execution_").removesuffix("_result")
        update = content.get("is_file_update")
        return EditorResult(
            tool_use_id=tool_use_id,
            operation=op,
            file_type=_text(content.get("file_type")),
            content=_text(content.get("content")),
            num_lines=_whole(content.get("num_lines")),
            start_line=_whole(content.get("start_line")),
            total_lines=_whole(content.get("total_lines")),
            is_file_update=update if isinstance(update, bool) else None,
            lines=[_text(x) for x in _list(content.get("lines"))],
        )
    return Unsupported(block_type=f"{btype}/{ctype or '?'}", raw=json.dumps(block, default=str)[:4000])


def block_item(block: dict[str, Any], tool_names: dict[str, str] | None = None) -> Item | None:
    """One content block as a transcript item (None for blocks that show nothing, like container_upload)."""
    if not isinstance(block, dict):
        return Unsupported(block_type="?", raw=_text(block)[:4000])
    btype = _text(block.get("type"))
    if btype == "text":
        return Text(
            text=_text(block.get("text")), citations=[c for c in _list(block.get("citations")) if isinstance(c, dict)]
        )
    if btype == "thinking":
        return Thinking(text=_text(block.get("thinking")))
    if btype == "redacted_thinking":
        return Thinking(text="(reasoning redacted by the API)")
    if btype == "server_tool_use" and _text(block.get("name")) in TOOL_LANGUAGE:
        return code_cell(block)
    if btype in RESULT_TYPES:
        return result_item(block, tool_names)
    if btype == "container_upload" or (btype == "tool_use" and code_caller(block)):
        return None  # a call made by code shows as the Query item the turn makes of it
    return Unsupported(block_type=btype or "?", raw=json.dumps(block, default=str)[:4000])


def duration(seconds: float) -> str:
    """Seconds for a person: "12 ms" under a second, "3.40 s" from one."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def code_caller(block: dict[str, Any]) -> str:
    """The server_tool_use id of the code cell that made a `tool_use` block ('' when the model called it).

    The caller's type names the code execution version (`code_execution_20260120`, …); any such type counts."""
    caller = block.get("caller")
    if not isinstance(caller, dict) or not str(caller.get("type", "")).startswith("code_execution_"):
        return ""
    return str(caller.get("tool_id") or "")


def items_from_content(blocks: list[dict[str, Any]]) -> list[Item]:
    """All items of a final message's content, in order."""
    names = {
        _text(b.get("id")): _text(b.get("name"))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "server_tool_use"
    }
    out = []
    for block in blocks:
        item = block_item(block, names)
        if item is not None:
            out.append(item)
    return out
