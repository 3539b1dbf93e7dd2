"""Programmatic tool calling in the emulator, through the real SDK: code that awaits a client tool stops the
response with a `tool_use` whose caller is the code, goes on in the same container with the results, and a
continuation without the container is refused in the API's words."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import ServerToolCaller20260120

from lib.emulator import Emulator, Python, Text

pytestmark = pytest.mark.sources

MODEL = "claude-opus-4-8"
SQL = {
    "name": "sql",
    "description": "Run a read-only SQL query on a source.",
    "input_schema": {
        "type": "object",
        "properties": {"source": {"type": "string"}, "query": {"type": "string"}},
        "required": ["source", "query"],
    },
}
CELL = """\
import asyncio
print("before")
first = await sql(source="shop", query="SELECT count(*) FROM orders")
print("count", first["rows"][0][0])
a, b = await asyncio.gather(sql("shop", "SELECT 1"), sql(source="shop", query="SELECT 2"))
print("both", a["rows"], b["rows"])
"""


def tools(version: str = "code_execution_20260120", callers: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"type": version, "name": "code_execution"}, {**SQL, "allowed_callers": callers or [version]}]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)


def ask(client: anthropic.Anthropic, messages: list[dict[str, Any]], container: str = "", **kw: Any) -> Any:
    extra = {"container": container} if container else {}
    with client.messages.stream(
        model=kw.pop("model", MODEL), max_tokens=200, tools=kw.pop("tools", tools()), messages=messages, **extra
    ) as stream:
        return stream.get_final_message()


def answered(messages: list[dict[str, Any]], message: Any, rows: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation with the response and a tool_result for each of its calls (rows by query)."""
    results = [
        {"type": "tool_result", "tool_use_id": b.id, "content": json.dumps({"rows": rows[b.input["query"]]})}
        for b in message.content
        if b.type == "tool_use"
    ]
    return [*messages, {"role": "assistant", "content": [b.to_dict(warnings=False) for b in message.content]}] + [
        {"role": "user", "content": results}
    ]


def test_a_cell_awaits_the_tool_and_goes_on_with_the_results_in_the_same_container(emu, client) -> None:
    emu.queue_script([Text("Counting."), Python(CELL), Text("Done.")])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "How many orders?"}]
    first = ask(client, messages)
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["text", "server_tool_use", "tool_use"]
    code, call = first.content[1], first.content[2]
    assert code.name == "code_execution" and code.input == {"code": CELL}
    assert call.name == "sql" and call.input == {"source": "shop", "query": "SELECT count(*) FROM orders"}
    assert call.id.startswith("toolu_") and call.caller.type == "code_execution_20260120"
    assert call.caller.tool_id == code.id
    container = first.container.id

    messages = answered(messages, first, {"SELECT count(*) FROM orders": [[500]]})
    second = ask(client, messages, container)
    assert second.stop_reason == "tool_use" and second.container.id == container
    calls = [b for b in second.content if b.type == "tool_use"]  # asyncio.gather: both calls in one stop
    assert [c.input for c in calls] == [
        {"source": "shop", "query": "SELECT 1"},
        {"source": "shop", "query": "SELECT 2"},
    ]
    assert all(c.caller.tool_id == code.id for c in calls) and len(second.content) == 2

    third = ask(client, answered(messages, second, {"SELECT 1": [[1]], "SELECT 2": [[2]]}), container)
    assert third.stop_reason == "end_turn"
    result, text = third.content
    assert result.type == "code_execution_tool_result" and result.tool_use_id == code.id
    # only what the cell printed goes on, not the rows it was given
    assert result.content.stdout == "before\ncount 500\nboth [[1]] [[2]]\n" and result.content.return_code == 0
    assert text.text == "Done."


def test_a_continuation_without_the_container_is_refused_in_the_apis_words(emu, client) -> None:
    emu.queue_script([Python(CELL)])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "How many orders?"}]
    first = ask(client, messages)
    continued = answered(messages, first, {"SELECT count(*) FROM orders": [[500]]})
    with pytest.raises(anthropic.BadRequestError) as refused:
        ask(client, continued)
    assert refused.value.status_code == 400 and refused.value.body["error"]["type"] == "invalid_request_error"
    assert refused.value.body["error"]["message"] == (
        "container_id is required when there are pending tool uses generated by code execution with tools."
    )
    # the cell still waits in its container: the same continuation with the container goes on
    assert ask(client, continued, first.container.id).stop_reason == "tool_use"


def test_results_must_answer_exactly_the_calls_made(emu, client) -> None:
    emu.queue_script([Python(CELL)])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "How many orders?"}]
    first = ask(client, messages)
    wrong = [
        *messages,
        {"role": "assistant", "content": [b.to_dict(warnings=False) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_nope", "content": "[]"}]},
    ]
    with pytest.raises(anthropic.BadRequestError, match="unexpected `tool_use_id`"):
        ask(client, wrong, first.container.id)
    mixed = answered(messages, first, {"SELECT count(*) FROM orders": [[1]]})
    mixed[-1]["content"].append({"type": "text", "text": "and also"})
    with pytest.raises(anthropic.BadRequestError, match="only `tool_result` blocks"):
        ask(client, mixed, first.container.id)


def test_under_20260521_the_caller_is_the_20260120_runtime(emu, client) -> None:
    emu.queue_script([Python('print((await sql(source="s", query="q"))["rows"])')])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "q"}]
    version = "code_execution_20260521"
    first = ask(client, messages, tools=tools(version))
    call = first.content[-1]
    assert isinstance(call.caller, ServerToolCaller20260120) and call.caller.tool_id == first.content[0].id
    last = ask(client, answered(messages, first, {"q": [[True]]}), first.container.id, tools=tools(version))
    assert last.content[0].content.stdout == "[[True]]\n"


def test_who_may_call_tools_from_code(emu, client) -> None:
    hello = [{"role": "user", "content": "hi"}]
    with pytest.raises(anthropic.BadRequestError, match="code_execution_20260120 or later"):
        ask(client, hello, tools=tools("code_execution_20250825"))
    with pytest.raises(anthropic.BadRequestError, match="does not support programmatic tool calling"):
        ask(client, hello, model="claude-haiku-4-5")
    assert client.models.retrieve("claude-haiku-4-5").capabilities.code_execution.supported is False
    assert client.models.retrieve(MODEL).capabilities.code_execution.supported is True
    # without allowed_callers naming the code's version, the code cannot call it: it runs and fails, no tool_use
    emu.queue_script([Python('await sql(source="s", query="q")')])
    plain = ask(client, hello, tools=[tools()[0], SQL])
    assert plain.stop_reason == "end_turn" and plain.content[1].content.return_code == 1


def test_the_time_limit_counts_running_not_waiting_and_a_long_wait_ends_the_cell() -> None:
    with Emulator(code_timeout=3.0, tool_wait_timeout=1.0) as emu:
        client = anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=0)
        emu.queue_script([Python('r = await sql(source="s", query="q")\nprint(r)')])
        messages: list[dict[str, Any]] = [{"role": "user", "content": "q"}]
        first = ask(client, messages)
        time.sleep(1.5)  # longer than the wait allowed: the cell is gone
        late = ask(client, answered(messages, first, {"q": []}), first.container.id)
        error = late.content[0].content
        assert late.stop_reason == "end_turn" and error.type == "code_execution_tool_result_error"
        assert error.error_code == "execution_time_exceeded"

        emu.queue_script([Python('import time\nr = await sql(source="s", query="q")\ntime.sleep(0.5)\nprint(r)')])
        first = ask(client, messages)
        time.sleep(0.5)  # waiting does not use up the cell's 3 s
        done = ask(client, answered(messages, first, {"q": [[7]]}), first.container.id)
        assert done.content[0].content.stdout == "{'rows': [[7]]}\n"
