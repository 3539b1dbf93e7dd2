"""Transcript builders over recorded SSE streams and final message content: every block type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.analysis import TurnRequest, build_params, history_messages, safe_content, user_content
from lib.transcript import (
    CodeCell,
    EditorResult,
    Item,
    Output,
    StreamAssembler,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    Usage,
    item_from_dict,
    items_from_content,
)

FIXTURES = Path(__file__).parent / "fixtures" / "sse"


def sse_events(name: str) -> list[dict]:
    """The JSON payloads of an SSE fixture, in order (pings included)."""
    events = []
    for chunk in (FIXTURES / name).read_text().split("\n\n"):
        data = [line[5:].strip() for line in chunk.splitlines() if line.startswith("data:")]
        if data:
            events.append(json.loads("".join(data)))
    return events


def assemble(name: str) -> tuple[StreamAssembler, dict[int, Item], list]:
    """Feed a fixture through the assembler; the final item at each position, and every change."""
    asm = StreamAssembler()
    final: dict[int, Item] = {}
    changes = []
    for event in sse_events(name):
        for change in asm.feed(event):
            changes.append(change)
            final[change.position] = change.item
    return asm, final, changes


ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.sse"))


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_stream_items_match_the_final_content(name):
    asm, final, _ = assemble(name)
    from_stream = [final[i] for i in sorted(final)]
    assert from_stream == items_from_content(asm.content())
    assert all(i.to_dict()["kind"] == i.kind for i in from_stream)
    assert [item_from_dict(i.to_dict()) for i in from_stream] == from_stream


def test_python_png_stream():
    asm, final, changes = assemble("python_png.sse")
    items = [final[i] for i in sorted(final)]
    assert [type(i) for i in items] == [Text, CodeCell, Output, Text]
    code, out = items[1], items[2]
    assert code.tool == "code_execution" and code.language == "python" and code.complete
    assert "savefig" in code.code
    assert out.return_code == 0 and out.stdout and len(out.file_ids) == 1
    assert out.file_ids[0].startswith("file_")
    assert asm.stop_reason == "end_turn"
    assert asm.container and asm.container["id"].startswith("container_")
    assert asm.usage.code_execution_requests == 1 and asm.usage.output_tokens > 0 and asm.usage.input_tokens > 0
    partial_code = [c.item for c in changes if isinstance(c.item, CodeCell) and not c.final]
    assert partial_code and any(0 < len(c.code) < len(code.code) for c in partial_code), "code streams as it grows"
    partial_text = [c.item.text for c in changes if isinstance(c.item, Text) and not c.final]
    assert len(partial_text) > 1 and partial_text[0] != partial_text[-1], "text streams in pieces"


def test_bash_stderr_and_return_code():
    _, final, _ = assemble("bash_stderr.sse")
    outs = [i for i in final.values() if isinstance(i, Output)]
    cells = [i for i in final.values() if isinstance(i, CodeCell)]
    assert cells[0].tool == "bash_code_execution" and cells[0].language == "bash" and cells[0].code
    assert outs[0].return_code != 0 and outs[0].stderr


def test_editor_operations():
    _, final, _ = assemble("editor_ops.sse")
    items = [final[i] for i in sorted(final)]
    cells = [i for i in items if isinstance(i, CodeCell)]
    results = [i for i in items if isinstance(i, EditorResult)]
    assert [c.operation for c in cells] == ["create", "view", "str_replace"]
    assert cells[0].path and cells[0].code and cells[2].old_str and cells[2].new_str
    assert [r.operation for r in results] == ["create", "view", "str_replace"]
    assert results[0].is_file_update is False
    assert results[1].content and results[1].num_lines and results[1].total_lines
    assert any(line.startswith("-") for line in results[2].lines)
    assert any(line.startswith("+") for line in results[2].lines)


def test_every_tool_error_code_is_kept_with_a_hint():
    _, final, _ = assemble("tool_errors.sse")
    errors = [i for i in final.values() if isinstance(i, ToolError)]
    seen = {(e.tool, e.error_code) for e in errors}
    for tool in ("code_execution", "bash_code_execution", "text_editor_code_execution"):
        for code in ("invalid_tool_input", "unavailable", "too_many_requests", "execution_time_exceeded"):
            assert (tool, code) in seen, (tool, code)
    assert ("bash_code_execution", "output_file_too_large") in seen
    assert ("text_editor_code_execution", "file_not_found") in seen
    assert all(e.hint for e in errors)


def test_encrypted_result_and_unknown_block_type():
    _, final, _ = assemble("encrypted_and_unknown.sse")
    items = list(final.values())
    encrypted = [i for i in items if isinstance(i, Output) and i.encrypted]
    assert encrypted and encrypted[0].stdout == ""
    unknown = [i for i in items if isinstance(i, Unsupported)]
    assert unknown and unknown[0].block_type == "mystery_block_2027" and "mystery_block_2027" in unknown[0].raw


def test_pause_turn_stream_and_its_continuation_append():
    first, final1, _ = assemble("pause_turn.sse")
    assert first.stop_reason == "pause_turn"
    second = StreamAssembler(offset=first.count)
    positions = [c.position for e in sse_events("pause_turn_continuation.sse") for c in second.feed(e)]
    assert positions and min(positions) == first.count
    assert second.stop_reason == "end_turn"


def test_legacy_tool_version_runs_python_through_bash():
    _, final, _ = assemble("legacy_20250825.sse")
    cells = [i for i in final.values() if isinstance(i, CodeCell)]
    assert cells and all(c.tool == "bash_code_execution" for c in cells)
    assert any("python3" in c.code for c in cells)


def test_unknown_block_types_and_thinking_from_final_content():
    items = items_from_content(
        [
            {"type": "thinking", "thinking": "let me see", "signature": "x"},
            {"type": "redacted_thinking", "data": "zzz"},
            {"type": "container_upload", "file_id": "file_1"},
            {"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {"query": "x"}},
            {"type": "brand_new_block", "foo": 1},
            {
                "type": "code_execution_tool_result",
                "tool_use_id": "s2",
                "content": {"type": "code_execution_result_v9", "stdout": "?"},
            },
        ]
    )
    assert isinstance(items[0], Thinking) and items[0].text == "let me see"
    assert isinstance(items[1], Thinking)
    assert [type(i) for i in items[2:]] == [Unsupported, Unsupported, Unsupported]
    assert items[3].block_type == "brand_new_block"


def test_item_from_dict_tolerates_unknown_kinds_and_fields():
    assert isinstance(item_from_dict({"kind": "hologram", "x": 1}), Unsupported)
    assert item_from_dict({"kind": "text", "text": "hi", "future_field": 2}) == Text(text="hi")


def test_usage_adds_and_reads_server_tool_use():
    u = Usage.from_api(
        {
            "input_tokens": 10,
            "output_tokens": 5,
            "server_tool_use": {"web_search_requests": 0, "code_execution_requests": 2},
        }
    )
    assert (u + u) == Usage(20, 10, 0, 0, 4)


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
