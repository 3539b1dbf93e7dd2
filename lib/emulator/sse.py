"""Turns content blocks into the Messages API's SSE events, events into wire bytes, and wire bytes back."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Event = tuple[str, dict[str, Any]]


def encode(name: str, data: dict[str, Any]) -> bytes:
    """One SSE message with its `event:` line (the SDK drops messages without one)."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def parse_events(raw: bytes) -> list[Event]:
    """(name, data) of each SSE message in a recorded body."""
    events: list[Event] = []
    for message in raw.decode().split("\n\n"):
        name, data = "", ""
        for line in message.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data += line.removeprefix("data:").strip()
        if name and data:
            parsed: dict[str, Any] = json.loads(data)
            events.append((name, parsed))
    return events


def text_chunks(text: str, words: int = 4) -> list[str]:
    """Split text into pieces of a few words that concatenate back to the original."""
    tokens = re.findall(r"\s*\S+\s*|\s+", text)
    chunks = ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    return chunks or [text]


def json_pieces(value: dict[str, Any], parts: int = 4) -> list[str]:
    """`partial_json` pieces for a tool input; the first is empty, like the real API's."""
    raw = json.dumps(value)
    size = max(1, -(-len(raw) // parts))
    return [""] + [raw[i : i + size] for i in range(0, len(raw), size)]


def block_events(index: int, block: dict[str, Any], chunk_delay: float) -> Iterator[Event]:
    """start → deltas → stop for one content block."""
    kind = block.get("type")
    if kind == "text":
        yield "content_block_start", _start(index, {"type": "text", "text": ""})
        for citation in block.get("citations") or []:
            yield "content_block_delta", _delta(index, {"type": "citations_delta", "citation": citation})
        for i, chunk in enumerate(text_chunks(block["text"])):
            if i and chunk_delay:
                time.sleep(chunk_delay)
            yield "content_block_delta", _delta(index, {"type": "text_delta", "text": chunk})
    elif kind in ("server_tool_use", "tool_use"):
        yield "content_block_start", _start(index, {**block, "input": {}})
        for piece in json_pieces(block["input"]):
            yield "content_block_delta", _delta(index, {"type": "input_json_delta", "partial_json": piece})
    else:
        # Tool results (and anything unknown) arrive whole in the start event.
        yield "content_block_start", _start(index, block)
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def message_events(
    start: dict[str, Any],
    blocks: Iterable[dict[str, Any]],
    finish: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
    chunk_delay: float = 0.0,
) -> Iterator[Event]:
    """message_start → ping → blocks → message_delta → message_stop; `finish` gives (delta, usage)."""
    yield "message_start", {"type": "message_start", "message": start}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(blocks):
        yield from block_events(index, block, chunk_delay)
    delta, usage = finish()
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}
