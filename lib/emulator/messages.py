"""POST /v1/messages: validation, containers, script choice, and the reply (JSON or SSE events)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import ptc
from .containers import Container, ContainerRegistry
from .errors import ApiError
from .files import FileStore
from .ids import IdFactory
from .models import supports_code_execution
from .script import Planner, Step, runs_code
from .sse import Event, message_events
from .turn import Resume, Turn, TurnSettings


@dataclass
class Reply:
    """Either a Message JSON body or a stream of SSE events."""

    body: dict[str, Any] | None = None
    events: Iterator[Event] | None = None


class ScriptQueue:
    """FIFO of scripts for the next new turns."""

    def __init__(self) -> None:
        self._items: deque[list[Step]] = deque()
        self._lock = threading.Lock()

    def put(self, steps: list[Step]) -> None:
        with self._lock:
            self._items.append(list(steps))

    def peek(self) -> list[Step] | None:
        with self._lock:
            return list(self._items[0]) if self._items else None

    def pop(self) -> None:
        with self._lock:
            if self._items:
                self._items.popleft()


class MessagesEndpoint:
    """Handles one Messages request at a time (per call; calls may run in parallel)."""

    def __init__(
        self, settings: TurnSettings, containers: ContainerRegistry, scripts: ScriptQueue, planner: Planner
    ) -> None:
        self.settings = settings
        self.containers = containers
        self.scripts = scripts
        self.planner = planner
        self._replays: deque[tuple[list[Event], float]] = deque()
        self._replays_lock = threading.Lock()

    def queue_replay(self, events: list[Event], event_delay: float) -> None:
        """The next streamed request gets these recorded events verbatim, `event_delay` seconds apart."""
        with self._replays_lock:
            self._replays.append((list(events), event_delay))

    @property
    def files(self) -> FileStore:
        return self.settings.files

    @property
    def ids(self) -> IdFactory:
        return self.settings.ids

    def handle(self, body: Any, raw_size: int, sparse_usage: bool = False) -> Reply:
        """Validate, pick the script, and build the reply (`sparse_usage`: see `_reply`)."""
        _check_shape(body)
        if body.get("stream"):
            with self._replays_lock:
                replay = self._replays.popleft() if self._replays else None
            if replay is not None:
                return Reply(events=_paced(*replay))
        messages: list[dict[str, Any]] = body["messages"]
        tool_type = _code_tool(body.get("tools"))
        if tool_type is not None and not supports_code_execution(body["model"]):
            raise ApiError(400, f"tools.0: `{tool_type}` is not supported on model `{body['model']}`.")
        code_tools = ptc.code_tools(body.get("tools"), tool_type, body["model"])
        upload_ids = _upload_ids(messages)
        for fid in upload_ids:
            self._check_upload(fid)
        results = ptc.tool_results(messages)
        if results is not None and body.get("container") is None and ptc.pending_code_calls(messages):
            raise ApiError(400, ptc.CONTAINER_REQUIRED)
        container = self._requested_container(body.get("container"))
        resume = self._resume(container, results, len(messages) - 1)
        continuing = container is not None and bool(container.pending) and messages[-1].get("role") == "assistant"
        queued = None if continuing or resume is not None else self.scripts.peek()
        if (upload_ids or (queued is not None and runs_code(queued))) and tool_type is None:
            raise ApiError(
                400,
                "This request uses code execution (container_upload or tool calls) but `tools` has no "
                'code execution tool; add {"type": "code_execution_20260521", "name": "code_execution"}.',
            )
        if container is None and tool_type is not None:
            container = self.containers.create()
        if container is not None:
            for fid in upload_ids:
                container.add_file(self.files.require(fid))
            self.containers.touch(container)
        if resume is not None:
            steps = []
        elif continuing:
            assert container is not None
            steps = container.pending
        elif queued is not None:
            self.scripts.pop()
            steps = queued
        else:
            uploaded = [self.files.require(fid).filename for fid in upload_ids]
            steps = self.planner(_question(messages), uploaded)
        if container is not None:
            container.pending = []
            container.turns += 1
        system = ptc.system_text(body.get("system"))
        turn = Turn(self.settings, container, steps, tool_type, code_tools, system, resume)
        return self._reply(body, turn, raw_size, sparse_usage)

    def _resume(self, container: Container | None, results: list[dict[str, Any]] | None, index: int) -> Resume | None:
        """The continuation of a cell waiting in the container for these tool results; any other request to a
        container with a waiting cell ends that cell (the conversation went on without its results)."""
        awaiting = container.awaiting if container is not None else None
        if results is None:
            if container is not None:
                container.drop_awaiting()
            return None
        if awaiting is None or container is None:
            raise ApiError(
                400,
                f"messages.{index}.content: `tool_result` blocks answer tool calls that no code in this container "
                "is waiting for.",
            )
        ordered = ptc.ordered_results(results, awaiting.pending, index)
        container.awaiting = None
        return Resume(awaiting, ordered)

    def _check_upload(self, fid: Any) -> None:
        if not isinstance(fid, str) or fid not in self.files:
            raise ApiError(400, f"File `{fid}` not found. Check the `file_id` in your `container_upload` block.")
        if self.files[fid].is_expired(self.containers.now()):
            raise ApiError(400, f"File `{fid}` has expired and cannot be used in a `container_upload` block.")

    def _requested_container(self, value: Any) -> Container | None:
        cid = value.get("id") if isinstance(value, dict) else value
        if cid is None:
            return None
        if not isinstance(cid, str):
            raise ApiError(400, "container: expected a string id or an object with `id`.")
        return self.containers.live(cid)

    def _reply(self, body: dict[str, Any], turn: Turn, raw_size: int, sparse_usage: bool) -> Reply:
        """The Message, or its events. With `sparse_usage`, input and cache counts are non-zero and sent only
        in `message_start`; `message_delta` carries only `output_tokens` and `server_tool_use`."""
        msg_id, model = self.ids.message(), body["model"]
        input_tokens = max(1, raw_size // 4)
        cache_creation, cache_read = (1024 + input_tokens, 2048 + 2 * input_tokens) if sparse_usage else (0, 0)
        start_usage = {
            "input_tokens": input_tokens,
            "output_tokens": 1,
            "cache_creation_input_tokens": cache_creation,
            "cache_read_input_tokens": cache_read,
        }

        def finish() -> tuple[dict[str, Any], dict[str, Any]]:
            container = turn.container
            if container is not None:
                self.containers.touch(container)
            delta = {
                "stop_reason": turn.stop_reason,
                "stop_sequence": None,
                "stop_details": None,
                "container": {"id": container.id, "expires_at": container.expires_at} if container else None,
            }
            usage = {
                "output_tokens": max(1, turn.output_chars // 4),
                "server_tool_use": {
                    "web_search_requests": 0,
                    "web_fetch_requests": 0,
                    "code_execution_requests": turn.code_requests,
                },
            }
            if not sparse_usage:
                usage = {**start_usage, **usage}
            return delta, usage

        start = {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "container": None,
            "usage": start_usage,
        }
        if body.get("stream"):
            return Reply(events=message_events(start, turn.blocks(), finish, self.settings.pacing.text_chunk_delay))
        content = list(turn.blocks())
        delta, usage = finish()
        message = {**start, "content": content, **delta, "usage": {**start_usage, **usage}}
        return Reply(body=message)


def _paced(events: list[Event], delay: float) -> Iterator[Event]:
    for i, event in enumerate(events):
        if i and delay:
            time.sleep(delay)
        yield event


def _check_shape(body: Any) -> None:
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise ApiError(400, "model: Field required")
    if not isinstance(body.get("max_tokens"), int):
        raise ApiError(400, "max_tokens: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages: at least one message is required")


def _code_tool(tools: Any) -> str | None:
    """The code execution tool version in `tools`, if any."""
    for tool in tools if isinstance(tools, list) else []:
        kind = tool.get("type", "") if isinstance(tool, dict) else ""
        if isinstance(kind, str) and kind.startswith("code_execution_"):
            if tool.get("name") != "code_execution":
                raise ApiError(400, f"tools: `{kind}` must be named `code_execution`.")
            return kind
    return None


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _upload_ids(messages: list[dict[str, Any]]) -> list[Any]:
    ids = [b.get("file_id") for m in messages for b in _blocks(m) if b.get("type") == "container_upload"]
    return list(dict.fromkeys(ids))


def _question(messages: list[dict[str, Any]]) -> str:
    """Text of the last user message."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        if isinstance(message.get("content"), str):
            return message["content"]
        return " ".join(b.get("text", "") for b in _blocks(message) if b.get("type") == "text")
    return ""
