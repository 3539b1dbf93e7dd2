"""Replays recorded API responses to the real SDK through an in-process transport (no sockets)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2

from lib.turn.events import TurnEvent
from lib.turn.request import TurnRequest
from lib.turn.stream import Turn
from tests.support.seed import png_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sse"


def replay_client(streams: list[bytes]) -> tuple[anthropic.Anthropic, list[dict[str, Any]]]:
    """A client whose n-th /v1/messages request gets `streams[n]`; generated files download as a PNG.

    Returns the client and the list the JSON bodies of its message requests are appended to."""
    sent: list[dict[str, Any]] = []
    png = png_bytes()

    def handle(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/v1/messages":
            sent.append(json.loads(request.content))
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=streams[len(sent) - 1])
        if path.startswith("/v1/files/") and path.endswith("/content"):
            return httpx2.Response(200, headers={"content-type": "image/png"}, content=png)
        if path.startswith("/v1/files/"):
            file_id = path.rsplit("/", 1)[-1]
            meta = {
                "id": file_id,
                "type": "file",
                "filename": f"{file_id}.png",
                "mime_type": "image/png",
                "size_bytes": len(png),
                "created_at": "2026-11-30T12:00:00Z",
                "downloadable": True,
            }
            return httpx2.Response(200, json=meta)
        return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": path}})

    client = anthropic.Anthropic(
        api_key="test-key",
        base_url="http://replay.invalid",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )
    return client, sent


def fixture(name: str) -> bytes:
    """The bytes of a recorded SSE stream."""
    return (FIXTURES / name).read_bytes()


def request(**overrides: Any) -> TurnRequest:
    """A plain first-turn request."""
    values: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "tool_version": "code_execution_20260521",
        "max_tokens": 1000,
        "history": [],
        "user_content": [{"type": "text", "text": "question"}],
    }
    return TurnRequest(**{**values, **overrides})


def replay(streams: list[bytes], data_dir: Path, **overrides: Any) -> Iterator[TurnEvent]:
    """The events of one turn whose responses are `streams`."""
    client, _ = replay_client(streams)
    return Turn(client, request(**overrides), data_dir, data_dir / "artifacts").events()
