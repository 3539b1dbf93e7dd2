"""The pure request builder: parameters, the user's message, the files note and the history."""

from __future__ import annotations

from dataclasses import dataclass

from lib.turn.request import TurnRequest, build_params, files_note, history_messages, safe_content, user_content


def test_request_building():
    req = TurnRequest(
        model="m",
        tool_version="code_execution_20260521",
        max_tokens=100,
        history=[],
        user_content=user_content("why?", ["file_a", "file_b"]),
    )
    params = build_params(req, [{"role": "user", "content": req.user_content}], "")
    assert params["tools"] == [{"type": "code_execution_20260521", "name": "code_execution"}]
    assert "container" not in params
    assert params["messages"][0]["content"] == [
        {"type": "text", "text": "why?"},
        {"type": "container_upload", "file_id": "file_a"},
        {"type": "container_upload", "file_id": "file_b"},
    ]
    assert build_params(req, [], "container_x")["container"] == "container_x"


def test_history_drops_unanswered_tool_calls_and_fills_empty_turns():
    pending = [
        {"type": "text", "text": "start"},
        {"type": "server_tool_use", "id": "s1", "name": "code_execution", "input": {"code": "1"}},
    ]
    assert safe_content(pending) == [{"type": "text", "text": "start"}]
    msgs = history_messages([([{"type": "text", "text": "q1"}], []), ([{"type": "text", "text": "q2"}], pending)])
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]
    assert msgs[1]["content"][0]["text"].startswith("(This turn was interrupted")


@dataclass
class Attached:
    filename: str
    kind: str
    size_bytes: int
    notes: str = ""


def test_files_note_names_each_file_and_the_analysts_notes_from_plain_values():
    note = files_note([Attached("sales.csv", "csv", 1234, "units are boxes"), Attached("map.png", "png", 10)])
    assert note.splitlines() == [
        "Files attached to the container for this question: `sales.csv` (CSV, 1,234 bytes), `map.png` (PNG, 10 bytes).",
        "Notes from the analyst about `sales.csv`: units are boxes",
    ]
    assert files_note([]) == ""
