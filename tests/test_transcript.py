"""The transcript builders (every block type from final content, stored items, usage) and the one dispatch over items."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.transcript import (
    ITEM_TYPES,
    CodeCell,
    EditorResult,
    GeneratedFile,
    Item,
    ItemHandler,
    Notice,
    Output,
    Query,
    RunError,
    Text,
    Thinking,
    ToolError,
    Unsupported,
    Usage,
    dispatch,
    item_from_dict,
    items_from_content,
)
from tests.support.items import one_of_each


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


class _Named(ItemHandler[str]):
    def text(self, item: Text) -> str:
        return "text"

    def thinking(self, item: Thinking) -> str:
        return "thinking"

    def code(self, item: CodeCell) -> str:
        return "code"

    def output(self, item: Output) -> str:
        return "output"

    def editor(self, item: EditorResult) -> str:
        return "editor"

    def tool_error(self, item: ToolError) -> str:
        return "tool_error"

    def file(self, item: GeneratedFile) -> str:
        return "file"

    def notice(self, item: Notice) -> str:
        return "notice"

    def run_error(self, item: RunError) -> str:
        return "run_error"

    def unsupported(self, item: Unsupported) -> str:
        return "unsupported"

    def query(self, item: Query) -> str:
        return "query"


def test_every_item_type_is_stored_by_its_kind_and_has_a_handler_method():
    types = set(get_args(Item))
    assert set(ITEM_TYPES.values()) == types == {type(i) for i in one_of_each()}
    assert len(ItemHandler.__abstractmethods__) == len(types)


def test_dispatch_calls_the_method_of_the_items_type():
    assert [dispatch(i, _Named()) for i in one_of_each()] == [
        "text",
        "thinking",
        "code",
        "output",
        "editor",
        "tool_error",
        "file",
        "notice",
        "run_error",
        "unsupported",
        "query",
    ]


def test_a_handler_missing_a_method_cannot_be_made():
    class Partial(ItemHandler[None]):
        def text(self, item: Text) -> None:
            pass

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]


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
