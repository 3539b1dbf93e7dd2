"""One conversation turn as one stream of typed events, built on the SDK's own MessageStream.

`Turn(...).events()` sends the request, follows the SDK's accumulated message, continues `pause_turn`,
answers the SQL calls Claude's code makes (a `tool_use` stop) and goes on in the same container, replaces a
container the API refuses, downloads generated files as their results arrive, and ends with exactly one
`Outcome`. It owns item numbering and changes nothing it was given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Literal

import anthropic
from jiter import from_json

from lib.cost import budget_reached, budget_used_sentence
from lib.errors import AppError, describe
from lib.sources import QueryHandle, QueryResult
from lib.transcript import (
    STREAMED_BLOCKS,
    TOOL_LANGUAGE,
    Item,
    Notice,
    Output,
    RunError,
    Text,
    Thinking,
    ToolError,
    Usage,
    block_item,
    code_cell,
)
from lib.turn import queries
from lib.turn.download import fetch_file
from lib.turn.events import ContainerEvent, FileSaved, ItemEvent, NoticeEvent, Outcome, TurnEvent, UsageEvent
from lib.turn.queries import QueryRunner
from lib.turn.refusal import CONTAINER_REPLACED, code_state_lost, container_lost, refuses_container
from lib.turn.request import TurnRequest, build_params
from lib.turn.stop import StopSignal

RETRY_DELAYS = (0.5, 1.5)
PARTIAL_PARSE_INTERVAL = 0.05  # seconds between re-parses of a code cell's input while it streams
STOP_NOTES = {
    "max_tokens": "The answer reached the max_tokens limit and was cut; ask a follow-up to continue.",
    "refusal": "Claude declined to continue with this request.",
    "model_context_window_exceeded": "The conversation no longer fits the model's context window; start a new run.",
}
Guard = Callable[[], AppError | None]  # why the turn must not go on (a budget outside the run), or None


class _Stopped(Exception):
    """The user stopped the turn."""


class _Refused(Exception):
    """The API refused the container the request carried."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Failed(Exception):
    """The turn cannot go on."""

    def __init__(self, error: AppError) -> None:
        super().__init__(str(error))
        self.error = error


# --- the turn --------------------------------------------------------------------------------


class Turn:
    """One question and everything the API answers to it, as a stream of events."""

    def __init__(
        self,
        client: anthropic.Anthropic,
        req: TurnRequest,
        data_dir: Path,
        artifacts_dir: Path,
        stop: StopSignal | None = None,
        guard: Guard | None = None,
        queries: QueryRunner | None = None,
    ) -> None:
        self.client, self.req = client, req
        self.data_dir, self.artifacts_dir = data_dir, artifacts_dir
        self.stop = stop or StopSignal()
        self.guard = guard
        self.queries = queries  # runs the code's SQL calls as the run's user; None: the run has no sources
        self.user = list(req.user_content)
        self.container_id = req.container_id
        self.content: list[dict[str, Any]] = []
        # where the code's tool calls were answered: (length of `content` then, the user's tool_result blocks)
        self.answers: list[tuple[int, list[dict[str, Any]]]] = []
        self.usage = Usage()
        self.requests = 0
        self.next_seq = 0
        self.fetched: set[str] = set()

    def events(self) -> Iterator[TurnEvent]:
        """Run the turn, yielding every change; the last event is the Outcome."""
        stop_reason, error = "", None
        try:
            stop_reason = yield from self._converse()
        except _Stopped:
            yield self._notice("Stopped. Everything received before you pressed Stop is kept.", "warning")
            yield self._outcome("stopped")
            return
        except _Failed as failed:
            error = failed.error
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the turn ends with a readable outcome
            error = describe(exc)
        if error is not None:
            item = RunError(title=error.title, message=error.message, hint=error.hint, retryable=error.retryable)
            yield ItemEvent(self._seq(), item, True)
            yield self._outcome("failed", error=error)
            return
        if stop_reason in STOP_NOTES:
            yield self._notice(STOP_NOTES[stop_reason], "warning")
        yield self._outcome("done", stop_reason)

    def _converse(self) -> Generator[TurnEvent, None, str]:
        """The first request (with one container replacement), then continuations of `pause_turn`, and the
        answers to the tool calls Claude's code makes, for as long as it makes them."""
        try:
            message = yield from self._request()
        except _Refused as refused:
            yield from self._replace_container(refused.why)
            message = yield from self._request()
        continuations = 0
        while message.stop_reason in ("pause_turn", "tool_use"):
            if message.stop_reason == "tool_use":
                held = self._held_back()
                if held:
                    yield self._notice(held + ", so the code waiting for query results was not continued.", "warning")
                    break
                yield from self._answer(queries.tool_calls([_block_dict(b) for b in message.content]))
                try:
                    message = yield from self._request()
                except _Refused as refused:
                    # the code waiting for its results lived in that container: its state is gone with it
                    yield from self._forget_container()
                    raise _Failed(code_state_lost(refused.why)) from refused
                continue
            if continuations >= self.req.max_continuations:
                yield self._notice(
                    f"Claude paused {continuations} times in this turn, the most this app continues by itself. "
                    "Ask a follow-up such as 'continue' to go on.",
                    "warning",
                )
                break
            held = self._held_back()
            if held:
                yield self._notice(held + ", so Claude's paused work was not continued.", "warning")
                break
            continuations += 1
            try:
                message = yield from self._request()
            except _Refused as refused:
                # Claude's paused work lives in that container: a new one would not have it, so the turn ends
                # here, and the run forgets the container so that its next question starts a new one
                yield from self._forget_container()
                raise _Failed(container_lost(refused.why)) from refused
        return message.stop_reason or ""

    def _held_back(self) -> str:
        """Why the next request must not be sent (a budget is used up), or ''."""
        spent = self.req.spent_with(self.usage)
        if budget_reached(self.req.budget_usd, spent):
            return budget_used_sentence(spent, self.req.budget_usd) + ". Raise the run's budget and ask 'continue'"
        error = self.guard() if self.guard else None
        return f"{error.message} {error.hint}".strip().rstrip(".") if error else ""

    def _replace_container(self, why: str) -> Iterator[TurnEvent]:
        """Forget a refused container and put the run's files into the new one the next request starts."""
        yield from self._forget_container()
        present = {b.get("file_id") for b in self.user if b.get("type") == "container_upload"}
        self.user = self.user + [
            {"type": "container_upload", "file_id": f} for f in self.req.run_file_ids if f not in present
        ]
        yield self._notice(CONTAINER_REPLACED.format(why=why), "warning")

    def _forget_container(self) -> Iterator[TurnEvent]:
        """Stop using a refused container, here and in the run."""
        self.container_id = ""
        yield ContainerEvent("")

    def _messages(self) -> list[dict[str, Any]]:
        """The conversation to send: history, this turn's question, and what Claude said so far, with the
        answers to its code's tool calls after the content that made them."""
        messages = [*self.req.history, {"role": "user", "content": self.user}]
        start = 0
        for end, results in self.answers:
            messages.append({"role": "assistant", "content": self.content[start:end]})
            messages.append({"role": "user", "content": results})
            start = end
        if self.content[start:]:
            messages.append({"role": "assistant", "content": self.content[start:]})
        return messages

    def _answer(self, calls: list[dict[str, Any]]) -> Iterator[TurnEvent]:
        """Run each SQL call of the code (a Query item while it runs and when it is done) and keep the results
        to send; each gets the room the next request has left."""
        room = queries.MAX_REQUEST_BYTES - queries.REQUEST_MARGIN
        room -= queries.request_bytes(build_params(self.req, self._messages(), self.container_id))
        results = []
        for call in calls:
            seq = self._seq()
            yield ItemEvent(seq, queries.running(call), False)
            result = queries.refused(call, self.req.sources)
            if result is None and room < queries.MIN_RESULT_BYTES:
                result = queries.too_full(call, room)
            if result is None:
                result = self._run(call)
            block, sent = queries.answer(call, result, max(room, queries.MIN_RESULT_BYTES))
            room -= queries.request_bytes(block)
            results.append(block)
            yield ItemEvent(seq, queries.finished(call, sent), True)
            if self.stop.is_set():
                raise _Stopped()
        self.answers.append((len(self.content), results))

    def _run(self, call: dict[str, Any]) -> QueryResult:
        """One query, as the run's user; Stop cancels it."""
        if self.queries is None:
            return queries.unavailable(call)
        handle = QueryHandle()
        with self.stop.cancelling(handle):
            return self.queries(*queries.call_input(call), handle)

    def _request(self) -> Generator[TurnEvent, None, Any]:
        """One API request, retried while it failed before any content arrived; returns the final message."""
        for attempt in range(len(RETRY_DELAYS) + 1):
            carried = self.container_id
            response = _Response(self)
            try:
                self.requests += 1
                with self.client.messages.stream(**build_params(self.req, self._messages(), carried)) as stream:
                    with self.stop.watching(stream):
                        yield from response.follow(stream)
            except _Stopped:
                self._keep(response)
                raise
            except _Refused:
                # what Claude did in the refused container is shown, but not sent again: the retry starts over
                self._keep(response, content=False)
                raise
            except Exception as exc:
                if self.stop.is_set():
                    self._keep(response)
                    raise _Stopped() from exc
                # before anything was shown, a failed attempt's content is not kept: the next one starts over
                shown = response.items > 0
                self._keep(response, content=shown)
                why = refuses_container(exc, carried) if not shown else ""
                if why:
                    raise _Refused(why) from exc
                error = describe(exc)
                if error.retryable and not shown and attempt < len(RETRY_DELAYS):
                    if self.stop.wait(RETRY_DELAYS[attempt]):
                        raise _Stopped() from exc
                    continue
                raise _Failed(error) from exc
            self._keep(response)
            yield UsageEvent(self.usage)
            message = response.snapshot
            if message.container is not None and message.container.id != self.container_id:
                self.container_id = message.container.id
                yield ContainerEvent(message.container.id, _iso(message.container.expires_at))
            if message.stop_reason is None:
                raise _Failed(
                    AppError(
                        "Response cut short",
                        "The answer stream ended before the API said it was complete.",
                        "Ask again or ask a follow-up; everything received so far is kept.",
                        retryable=True,
                        code="cut",
                    )
                )
            return message
        raise AssertionError("unreachable")

    def _keep(self, response: _Response, content: bool = True) -> None:
        """Add what a response produced (complete or not) to the turn: its usage, and its content."""
        snapshot = response.snapshot
        if snapshot is None:
            return
        if content:
            self.content = self.content + [_block_dict(b) for b in snapshot.content]
        self.usage = self.usage + usage_of(snapshot)

    def _seq(self) -> int:
        self.next_seq += 1
        return self.next_seq - 1

    def _notice(self, text: str, level: str = "info") -> NoticeEvent:
        return NoticeEvent(self._seq(), Notice(text=text, level=level))

    def _outcome(
        self, status: Literal["done", "stopped", "failed"], stop_reason: str = "", error: AppError | None = None
    ) -> Outcome:
        return Outcome(
            status, self.content, self.usage, self.user, self.container_id, self.requests, stop_reason, error
        )

    def download(self, file_id: str, tool_use_id: str) -> Iterator[FileSaved]:
        """Fetch one generated file; a failure becomes an error on that file and the turn goes on."""
        if file_id in self.fetched:
            return
        self.fetched.add(file_id)
        if self.stop.is_set():
            raise _Stopped()
        yield FileSaved(self._seq(), fetch_file(self.client, file_id, tool_use_id, self.artifacts_dir, self.data_dir))


class _Response:
    """Follows one streamed response: the SDK accumulates it, this turns its blocks into numbered items."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.snapshot: Any = None
        self.items = 0  # items this response produced
        self.seqs: dict[int, int] = {}
        self.tool_names: dict[str, str] = {}
        self.partial: dict[int, str] = {}
        self.parsed_at: dict[int, float] = {}

    def follow(self, stream: Any) -> Iterator[TurnEvent]:
        """Yield item events for every raw event of the stream."""
        stopped = self.turn.stop.is_set  # checked after every event
        for event in stream:
            kind = event.type
            if kind == "content_block_delta":
                index, delta = event.index, event.delta
                if delta.type == "text_delta":  # by far the most frequent event: kept short
                    block = self.snapshot.content[index]
                    seq = self.seqs.get(index)
                    text = Text(block.text, _citations(block) if block.citations else [])
                    yield ItemEvent(self._seq_of(index) if seq is None else seq, text, False)
                else:
                    item = self._delta(event)
                    if item is not None:
                        yield ItemEvent(self._seq_of(index), item, False)
            elif kind in _HELPER_EVENTS:
                pass
            elif kind == "content_block_start":
                block = event.content_block
                if block.type == "server_tool_use":
                    self.tool_names[block.id] = block.name
                item = self._item(self.snapshot.content[event.index], final=False)
                if item is None or (isinstance(item, Text | Thinking) and not item.text):
                    continue  # nothing to show yet: the first delta is written at once instead of held back
                final = block.type not in STREAMED_BLOCKS
                yield ItemEvent(self._seq_of(event.index), item, final)
                if final:
                    yield from self._result(item)
            elif kind == "content_block_stop":
                if event.content_block.type in STREAMED_BLOCKS:  # the others were final at their start
                    item = self._item(self.snapshot.content[event.index], final=True)
                    if item is not None:
                        yield ItemEvent(self._seq_of(event.index), item, True)
            elif kind == "message_start":
                self.snapshot = stream.current_message_snapshot
            if stopped():
                raise _Stopped()

    def _seq_of(self, index: int) -> int:
        if index not in self.seqs:
            self.seqs[index] = self.turn._seq()
            self.items += 1
        return self.seqs[index]

    def _delta(self, event: Any) -> Item | None:
        """The item a content_block_delta changed, read from the SDK's snapshot."""
        delta, block = event.delta, self.snapshot.content[event.index]
        if delta.type == "citations_delta":
            return Text(text=block.text, citations=_citations(block))
        if delta.type == "thinking_delta":
            return Thinking(text=block.thinking)
        if delta.type == "input_json_delta" and block.type == "server_tool_use" and block.name in TOOL_LANGUAGE:
            # the SDK parses tool input without unfinished strings; code is worth showing while it is written
            index = event.index
            self.partial[index] = self.partial.get(index, "") + delta.partial_json
            now = time.monotonic()
            if not delta.partial_json or now - self.parsed_at.get(index, 0.0) < PARTIAL_PARSE_INTERVAL:
                return None
            self.parsed_at[index] = now
            return code_cell({"id": block.id, "name": block.name, "input": _partial(self.partial[index])}, False)
        return None

    def _item(self, block: Any, final: bool) -> Item | None:
        """A whole block as an item (once per block start and stop)."""
        if block.type == "text":
            return Text(text=block.text, citations=_citations(block))
        if block.type == "server_tool_use" and block.name in TOOL_LANGUAGE:
            return code_cell({"id": block.id, "name": block.name, "input": block.input}, final)
        return block_item(_block_dict(block), self.tool_names)

    def _result(self, item: Item) -> Iterator[TurnEvent]:
        """After a tool result: refuse the container if it is gone, or fetch the files the code made."""
        turn = self.turn
        if isinstance(item, ToolError) and item.error_code == "container_expired" and turn.container_id:
            raise _Refused("the code execution tool reported it as expired")
        if isinstance(item, Output):
            for file_id in item.file_ids:
                yield from turn.download(file_id, item.tool_use_id)


def usage_of(message: Any) -> Usage:
    """A message's usage as the SDK accumulated it (optional counts only in message_start are kept)."""
    usage = message.usage
    server = getattr(usage, "server_tool_use", None)
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        # documented, but not declared by the SDK's ServerToolUsage: it is kept as an extra field
        code_execution_requests=int(getattr(server, "code_execution_requests", 0) or 0),
    )


def _block_dict(block: Any) -> dict[str, Any]:
    # warnings off: an unknown block type would make pydantic warn on every serialisation
    return block.to_dict(mode="json", warnings=False)


# what MessageStream adds to the raw events (the raw ones carry the same change)
_HELPER_EVENTS = {"text", "input_json", "citation", "thinking", "signature"}


def _citations(block: Any) -> list[dict[str, Any]]:
    return [c.to_dict(mode="json", warnings=False) for c in block.citations] if block.citations else []


def _partial(text: str) -> dict[str, Any]:
    """Best-effort parse of an unfinished JSON object, keeping an unfinished string."""
    if not text.strip():
        return {}
    try:
        value = from_json(text.encode(), partial_mode="trailing-strings")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")
