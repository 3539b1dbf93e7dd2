"""One conversation turn: build the request, stream it, continue on pause_turn, download generated files."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anthropic

from lib import files
from lib.cost import DEFAULT_PRICES, PriceTable, budget_reached, budget_used_sentence, container_minutes_for, estimate
from lib.errors import AppError, describe
from lib.store import FileRecord
from lib.transcript import Change, GeneratedFile, Item, Notice, Output, StreamAssembler, Usage

SYSTEM_PROMPT = (
    "You are a careful data analyst. The user's files are available in the code execution container. "
    "Work in small steps: load the data, check it, then answer. Print the figures you quote, so every number "
    "in your answer comes from code you ran. Save every chart as a PNG file (dpi 120 or more) and any table the "
    "user may want as CSV, in the output directory of the container, and mention the file names. "
    "End with a short, plain-language answer to the question."
)
RETRY_DELAYS = (0.5, 1.5)

Sink = Callable[[Hashable, Item, bool], None]


class Cancelled(Exception):
    """The user stopped the turn."""


@dataclass
class TurnFailed(Exception):
    """A turn ended in an error; what arrived before it is in `content`."""

    error: AppError
    content: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


@dataclass
class TurnOutcome:
    """What a finished turn produced, beyond the items already sent to the sink."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    requests: int


@dataclass
class TurnRequest:
    """Everything one turn needs, as plain values."""

    model: str
    tool_version: str
    max_tokens: int
    history: list[dict[str, Any]]
    user_content: list[dict[str, Any]]
    container_id: str = ""
    run_file_ids: list[str] = field(default_factory=list)
    system: str = SYSTEM_PROMPT
    max_continuations: int = 8
    budget_usd: float = 0.0  # the run's budget; 0: no limit
    spent_usd: float = 0.0  # what the run's earlier turns cost
    prices: PriceTable = DEFAULT_PRICES

    def spent_with(self, usage: Usage) -> float:
        """The run's estimated spend with this turn's `usage` so far."""
        return self.spent_usd + estimate(usage, self.model, self.prices, container_minutes_for(1)).total_usd


def user_content(question: str, file_ids: list[str], files_note: str = "") -> list[dict[str, Any]]:
    """The user message of a turn: the question, a note naming the files, then the files for the container."""
    note = [{"type": "text", "text": files_note}] if files_note else []
    return [{"type": "text", "text": question}] + note + [{"type": "container_upload", "file_id": f} for f in file_ids]


def files_note(files: list[FileRecord]) -> str:
    """Tells Claude which files it gets (so it need not search the container) and the analyst's notes on them."""
    if not files:
        return ""
    described = ", ".join(f"`{f.filename}` ({f.kind.upper()}, {f.size_bytes:,} bytes)" for f in files)
    lines = [f"Files attached to the container for this question: {described}."]
    lines += [f"Notes from the analyst about `{f.filename}`: {f.notes}" for f in files if f.notes]
    return "\n".join(lines)


def tool_spec(version: str) -> dict[str, str]:
    """The code execution tool declaration."""
    return {"type": version, "name": "code_execution"}


def build_params(req: TurnRequest, messages: list[dict[str, Any]], container_id: str) -> dict[str, Any]:
    """Keyword arguments for messages.stream()."""
    params: dict[str, Any] = {
        "model": req.model,
        "max_tokens": req.max_tokens,
        "system": req.system,
        "tools": [tool_spec(req.tool_version)],
        "messages": messages,
    }
    if container_id:
        params["container"] = container_id
    return params


def safe_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assistant content without a trailing tool call that has no result (unsendable without its container)."""
    answered = {b.get("tool_use_id") for b in content if "tool_use_id" in b}
    out = [b for b in content if not (b.get("type") == "server_tool_use" and b.get("id") not in answered)]
    return [b for b in out if not (b.get("type") == "text" and not b.get("text"))]


def history_messages(turns: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Earlier (user content, assistant content) pairs as alternating messages the API accepts."""
    messages: list[dict[str, Any]] = []
    for user, assistant in turns:
        messages.append({"role": "user", "content": user})
        content = safe_content(assistant)
        if not content:
            content = [{"type": "text", "text": "(This turn was interrupted before Claude answered.)"}]
        messages.append({"role": "assistant", "content": content})
    return messages


def attached_ids(messages: list[dict[str, Any]]) -> set[str]:
    """File ids already put into the container by earlier messages."""
    return {
        b["file_id"]
        for m in messages
        if m["role"] == "user"
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "container_upload"
    }


class TurnRunner:
    """Drives one turn against the API, sending every transcript change to a sink."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        req: TurnRequest,
        sink: Sink,
        artifacts_dir: Path,
        data_dir: Path,
        cancel: threading.Event | None = None,
    ) -> None:
        self.client, self.req, self.sink = client, req, sink
        self.artifacts_dir, self.data_dir = artifacts_dir, data_dir
        self.cancel = cancel or threading.Event()
        self._stream: Any = None
        self._lock = threading.Lock()
        self.content: list[dict[str, Any]] = []
        self.usage = Usage()
        self.requests = 0
        self.offset = 0
        self.container: dict[str, Any] = {}
        self._fetched: set[str] = set()

    def stop(self) -> None:
        """Ask the turn to stop now and close the open stream (in the background: closing may block)."""
        self.cancel.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            threading.Thread(target=_close_quietly, args=(stream,), daemon=True).start()

    def run(self) -> TurnOutcome:
        """Run the turn to the end; raises Cancelled or TurnFailed."""
        req = self.req
        messages = req.history + [{"role": "user", "content": list(req.user_content)}]
        container = req.container_id
        try:
            assembler = self._request(messages, container, allow_expired=True)
        except _ContainerExpired:
            container = ""
            missing = [f for f in req.run_file_ids if f not in _upload_ids(messages[-1]["content"])]
            messages[-1]["content"] = messages[-1]["content"] + [
                {"type": "container_upload", "file_id": f} for f in missing
            ]
            self.req.user_content = messages[-1]["content"]
            self._say(
                Notice(
                    text="The run's container had expired, so a new one was started and the run's files were "
                    "attached to it again. Files made in earlier turns are not in the new container.",
                    level="warning",
                )
            )
            assembler = self._request(messages, container, allow_expired=False)
        container = self.container.get("id", container)
        continuations = 0
        while assembler.stop_reason == "pause_turn":
            if continuations >= req.max_continuations:
                self._say(
                    Notice(
                        text=f"Claude paused {continuations} times in this turn, the most this app "
                        "continues by itself. Ask a follow-up such as 'continue' to go on.",
                        level="warning",
                    )
                )
                break
            spent = req.spent_with(self.usage)
            if budget_reached(req.budget_usd, spent):
                self._say(
                    Notice(
                        text=budget_used_sentence(spent, req.budget_usd) + ", so Claude's paused work was "
                        "not continued. Raise the run's budget and ask 'continue' to go on.",
                        level="warning",
                    )
                )
                break
            continuations += 1
            messages = messages + [{"role": "assistant", "content": assembler.content()}]
            assembler = self._request(messages, container, allow_expired=False)
            container = self.container.get("id", container)
        stop = assembler.stop_reason or ""
        if stop in STOP_NOTES:
            self._say(Notice(text=STOP_NOTES[stop], level="warning"))
        return TurnOutcome(self.content, stop, self.usage, self.requests)

    def _say(self, item: Item) -> None:
        self.sink(("notice", self.offset, time.monotonic_ns()), item, True)

    def _request(self, messages: list[dict[str, Any]], container: str, allow_expired: bool) -> StreamAssembler:
        """One API request, retried when it failed before any content arrived."""
        for attempt in range(len(RETRY_DELAYS) + 1):
            assembler = StreamAssembler(offset=self.offset)
            try:
                self._stream_once(messages, container, assembler)
            except Cancelled:
                self._keep(assembler)
                raise
            except Exception as exc:
                if self.cancel.is_set():
                    self._keep(assembler)
                    raise Cancelled() from exc
                error = describe(exc)
                if error.code == "container_expired" and allow_expired:
                    raise _ContainerExpired() from exc
                if error.retryable and assembler.count == 0 and attempt < len(RETRY_DELAYS):
                    time.sleep(RETRY_DELAYS[attempt])
                    continue
                self._keep(assembler)
                raise TurnFailed(error, self.content, self.usage) from exc
            self._keep(assembler)
            if assembler.stop_reason is None:
                raise TurnFailed(
                    AppError(
                        "Response cut short",
                        "The answer stream ended before the API said it was complete.",
                        "Ask again or ask a follow-up; everything received so far is kept.",
                        retryable=True,
                        code="cut",
                    ),
                    self.content,
                    self.usage,
                )
            return assembler
        raise AssertionError("unreachable")

    def _stream_once(self, messages: list[dict[str, Any]], container: str, assembler: StreamAssembler) -> None:
        """Read one streamed response; the reading happens in a helper thread so Stop never waits on the network."""
        params = build_params(self.req, messages, container)
        self.requests += 1
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def read() -> None:
            try:
                with self.client.messages.stream(**params) as stream:
                    with self._lock:
                        self._stream = stream
                    for event in stream:
                        if self.cancel.is_set():
                            return
                        if event.type in RAW_EVENTS:
                            # warnings off: an unknown block type would make pydantic warn on every event
                            events.put(("event", event.to_dict(mode="json", warnings=False)))
                events.put(("end", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the turn's thread to describe
                events.put(("error", exc))
            finally:
                with self._lock:
                    self._stream = None

        threading.Thread(target=read, daemon=True, name="stream-reader").start()
        while True:
            try:
                kind, value = events.get(timeout=0.1)
            except queue.Empty:
                if self.cancel.is_set():
                    raise Cancelled() from None
                continue
            if self.cancel.is_set():
                raise Cancelled()
            if kind == "end":
                return
            if kind == "error":
                raise value
            for change in assembler.feed(value):
                self._emit(change)

    def _emit(self, change: Change) -> None:
        self.sink(change.position, change.item, change.final)
        if change.final and isinstance(change.item, Output):
            for file_id in change.item.file_ids:
                if file_id not in self._fetched:
                    self._fetched.add(file_id)
                    self._download(file_id, change.item.tool_use_id)

    def _download(self, file_id: str, tool_use_id: str) -> None:
        """Fetch one generated file to disk and add it to the transcript."""
        item = GeneratedFile(file_id=file_id, tool_use_id=tool_use_id)
        try:
            meta = files.metadata(self.client, file_id)
            item.filename, item.mime_type = meta.filename, meta.mime_type
            dest = self.artifacts_dir / f"{file_id}_{_safe_name(meta.filename)}"
            item.size_bytes = files.download(self.client, file_id, dest)
            item.path = str(dest.relative_to(self.data_dir))
        except AppError as err:
            item.error = f"{err.message} {err.hint}".strip()
        except OSError as err:
            item.error = f"Could not save the file locally: {err}"
        self.sink(("file", file_id), item, True)

    def _keep(self, assembler: StreamAssembler) -> None:
        """Add a response's content and usage to the turn's totals."""
        self.content.extend(assembler.content())
        self.usage = self.usage + assembler.usage
        self.container = assembler.container or self.container
        self.offset += assembler.count


class _ContainerExpired(Exception):
    """The container named in the request has expired."""


RAW_EVENTS = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}
STOP_NOTES = {
    "max_tokens": "The answer reached the max_tokens limit and was cut; ask a follow-up to continue.",
    "refusal": "Claude declined to continue with this request.",
    "model_context_window_exceeded": "The conversation no longer fits the model's context window; start a new run.",
}


def _close_quietly(stream: Any) -> None:
    try:
        stream.close()
    except Exception:  # noqa: BLE001 - closing a half-dead stream may fail in many ways
        pass


def _upload_ids(content: list[dict[str, Any]]) -> set[str]:
    return {b["file_id"] for b in content if b.get("type") == "container_upload"}


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(name).name)
    return keep.strip("._")[:120] or "file"
