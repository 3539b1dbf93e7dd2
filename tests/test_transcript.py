"""The transcript builders: every block type from final content, stored items and usage."""

from __future__ import annotations

from lib.transcript import Text, Thinking, Unsupported, Usage, item_from_dict, items_from_content


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
