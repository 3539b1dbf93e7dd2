"""The turn over recorded SSE streams through the real SDK, and the transcript builders: every block type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.transcript import (
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
    Output,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    Usage,
    item_from_dict,
    items_from_content,
)
from lib.turn.stream import (
    ContainerEvent,
    FileSaved,
    ItemEvent,
    Outcome,
    Turn,
    TurnRequest,
    UsageEvent,
    build_params,
    history_messages,
    safe_content,
    user_content,
)
from tests.support.sse_replay import FIXTURES, fixture, replay, replay_client, request

Final = dict[int, Item]


def assemble(names: list[str], data_dir: Path) -> tuple[Outcome, Final, list]:
    """One turn over recorded responses through the real SDK: the outcome, each position's last item, all events."""
    final: Final = {}
    events = list(replay([fixture(n) for n in names], data_dir))
    for event in events:
        if isinstance(event, ItemEvent):
            final[event.seq] = event.item
        elif isinstance(event, FileSaved):
            final[event.seq] = event.file
    outcome = events[-1]
    assert isinstance(outcome, Outcome) and sum(isinstance(e, Outcome) for e in events) == 1
    return outcome, final, events


def shown(final: Final) -> list[Item]:
    """The transcript items in order, without downloaded files."""
    return [final[i] for i in sorted(final) if not isinstance(final[i], GeneratedFile)]


ALL_FIXTURES = sorted(p.name for p in FIXTURES.glob("*.sse") if p.name != "pause_turn_continuation.sse")


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_stream_items_match_the_final_content(name, tmp_path):
    names = [name, "pause_turn_continuation.sse"] if name == "pause_turn.sse" else [name]
    outcome, final, _ = assemble(names, tmp_path)
    assert shown(final) == items_from_content(outcome.content)
    assert all(i.to_dict()["kind"] == i.kind for i in shown(final))
    assert [item_from_dict(i.to_dict()) for i in shown(final)] == shown(final)


def test_python_png_stream(tmp_path):
    outcome, final, events = assemble(["python_png.sse"], tmp_path)
    items = [final[i] for i in sorted(final)]
    assert [type(i) for i in items] == [Text, CodeCell, Output, GeneratedFile, Text]
    code, out, png = items[1], items[2], items[3]
    assert code.tool == "code_execution" and code.language == "python" and code.complete
    assert "savefig" in code.code
    assert out.return_code == 0 and out.stdout and len(out.file_ids) == 1
    assert png.file_id == out.file_ids[0] and (tmp_path / png.path).read_bytes()[:4] == b"\x89PNG"
    assert outcome.status == "done" and outcome.stop_reason == "end_turn"
    assert outcome.container_id.startswith("container_")
    assert any(isinstance(e, ContainerEvent) and e.container_id == outcome.container_id for e in events)
    usage = outcome.usage
    assert usage.code_execution_requests == 1 and usage.output_tokens > 0 and usage.input_tokens > 0
    partial_code = [e.item for e in events if isinstance(e, ItemEvent) and isinstance(e.item, CodeCell) and not e.final]
    assert partial_code and any(0 < len(c.code) < len(code.code) for c in partial_code), "code streams as it grows"
    partial_text = [
        e.item.text for e in events if isinstance(e, ItemEvent) and isinstance(e.item, Text) and not e.final
    ]
    assert len(partial_text) > 1 and partial_text[0] != partial_text[-1], "text streams in pieces"


def test_bash_stderr_and_return_code(tmp_path):
    _, final, _ = assemble(["bash_stderr.sse"], tmp_path)
    outs = [i for i in final.values() if isinstance(i, Output)]
    cells = [i for i in final.values() if isinstance(i, CodeCell)]
    assert cells[0].tool == "bash_code_execution" and cells[0].language == "bash" and cells[0].code
    assert outs[0].return_code != 0 and outs[0].stderr


def test_editor_operations(tmp_path):
    _, final, _ = assemble(["editor_ops.sse"], tmp_path)
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


def test_every_tool_error_code_is_kept_with_a_hint(tmp_path):
    _, final, _ = assemble(["tool_errors.sse"], tmp_path)
    errors = [i for i in final.values() if isinstance(i, ToolError)]
    seen = {(e.tool, e.error_code) for e in errors}
    for tool in ("code_execution", "bash_code_execution", "text_editor_code_execution"):
        for code in ("invalid_tool_input", "unavailable", "too_many_requests", "execution_time_exceeded"):
            assert (tool, code) in seen, (tool, code)
    assert ("bash_code_execution", "output_file_too_large") in seen
    assert ("text_editor_code_execution", "file_not_found") in seen
    assert all(e.hint for e in errors)


def test_encrypted_result_and_unknown_block_type(tmp_path):
    _, final, _ = assemble(["encrypted_and_unknown.sse"], tmp_path)
    items = list(final.values())
    encrypted = [i for i in items if isinstance(i, Output) and i.encrypted]
    assert encrypted and encrypted[0].stdout == ""
    unknown = [i for i in items if isinstance(i, Unsupported)]
    assert unknown and unknown[0].block_type == "mystery_block_2027" and "mystery_block_2027" in unknown[0].raw


def test_pause_turn_is_continued_as_one_merged_assistant_message(tmp_path):
    client, sent = replay_client([fixture("pause_turn.sse"), fixture("pause_turn_continuation.sse")])
    events = list(Turn(client, request(), tmp_path, tmp_path / "a").events())
    outcome = events[-1]
    assert outcome.status == "done" and outcome.requests == 2
    first_content = sent[1]["messages"][-1]
    assert first_content["role"] == "assistant" and [m["role"] for m in sent[1]["messages"]] == ["user", "assistant"]
    assert sent[1]["container"] == outcome.container_id
    # both responses' blocks, in order, make the turn's one assistant message
    assert outcome.content[: len(first_content["content"])] == first_content["content"]
    assert len(outcome.content) > len(first_content["content"])
    # items are numbered 0, 1, 2, … across both responses: the continuation goes on from the first's count
    seqs = [e.seq for e in events if isinstance(e, ItemEvent)]
    assert seqs == sorted(seqs) and sorted(set(seqs)) == list(range(len(set(seqs))))
    first_ended = next(i for i, e in enumerate(events) if isinstance(e, UsageEvent))
    first_items = {e.seq for e in events[:first_ended] if isinstance(e, ItemEvent)}
    continued = [e.seq for e in events[first_ended:] if isinstance(e, ItemEvent)]
    assert first_items and continued and continued[0] == len(first_items), (first_items, continued)


def test_legacy_tool_version_runs_python_through_bash(tmp_path):
    _, final, _ = assemble(["legacy_20250825.sse"], tmp_path)
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


def test_usage_adds_up():
    u = Usage(10, 5, 1, 2, 2)
    assert (u + u) == Usage(20, 10, 2, 4, 4)


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


# --- items built from whatever blocks arrive: never an exception, always storable ---------------------------

SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
BLOCK_TYPES = st.sampled_from(
    [
        "text", "thinking", "redacted_thinking", "server_tool_use", "container_upload", "something_new",
        "code_execution_tool_result", "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
    ]
)  # fmt: skip
CONTENT_TYPES = st.sampled_from(
    [
        "code_execution_result", "bash_code_execution_result", "encrypted_code_execution_result",
        "code_execution_tool_result_error", "bash_code_execution_tool_result_error",
        "text_editor_code_execution_view_result", "text_editor_code_execution_create_result",
        "text_editor_code_execution_str_replace_result", "text_editor_code_execution_tool_result_error",
    ]
)  # fmt: skip
CONTENT = st.fixed_dictionaries(
    {"type": CONTENT_TYPES | JSON},
    optional={
        k: JSON
        for k in (
            "stdout", "stderr", "return_code", "content", "error_code", "error_message", "file_type",
            "num_lines", "start_line", "total_lines", "is_file_update", "lines",
        )
    },
)  # fmt: skip
BLOCK = st.fixed_dictionaries(
    {"type": BLOCK_TYPES | JSON},
    optional={
        "id": JSON,
        "name": st.sampled_from(["code_execution", "bash_code_execution", "text_editor_code_execution"]) | JSON,
        "input": JSON,
        "tool_use_id": JSON,
        "content": CONTENT | JSON,
        "text": JSON,
        "thinking": JSON,
        "citations": JSON,
    },
)


@pytest.mark.fuzz
@given(st.lists(BLOCK, max_size=6))
def test_items_from_any_blocks_never_raise_and_can_be_stored_and_read_back(blocks):
    for item in items_from_content(blocks):
        stored = json.dumps(item.to_dict())
        assert item_from_dict(json.loads(stored)) == item
