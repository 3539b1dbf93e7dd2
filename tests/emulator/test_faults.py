"""Injected faults in lib.emulator and what the real SDK does with them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anthropic
import httpx2
import pytest

from lib.emulator import Emulator, Fault, Text

MODEL = "claude-opus-4-8"
TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]
HELLO = [{"role": "user", "content": "hello"}]
LONG_TEXT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def _client(emu: Emulator, retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=emu.url, api_key="test-key", max_retries=retries)


def _retry_counts(emu: Emulator) -> list[str | None]:
    return [r.headers.get("x-stainless-retry-count") for r in emu.requests if r.path == "/v1/messages"]


@pytest.mark.parametrize("status", [429, 500])
def test_rate_limit_and_server_error_with_retry_after_ms_are_retried_then_succeed(emu: Emulator, status: int) -> None:
    emu.queue_script([Text("ok")])
    emu.inject(Fault("status", status=status, retry_after_ms=5))
    message = _client(emu, retries=2).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert message.content[0].text == "ok"
    assert _retry_counts(emu) == ["0", "1"]


def test_429_without_retries_raises_rate_limit_error(emu: Emulator) -> None:
    emu.inject(Fault("status", status=429, retry_after=0.01, message="slow down"))
    with pytest.raises(anthropic.RateLimitError) as info:
        _client(emu).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert info.value.type == "rate_limit_error" and info.value.api_message == "slow down"
    assert info.value.response.headers["retry-after"] == "0.01"
    assert info.value.request_id.startswith("req_")


def test_529_more_times_than_retries_raises_overloaded(emu: Emulator) -> None:
    emu.inject(Fault("status", status=529, times=3, retry_after_ms=5))
    with pytest.raises(anthropic.OverloadedError) as info:
        _client(emu, retries=2).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert info.value.status_code == 529 and info.value.type == "overloaded_error"
    assert _retry_counts(emu) == ["0", "1", "2"]


def test_should_retry_false_stops_retries(emu: Emulator) -> None:
    emu.inject(Fault("status", status=429, times=3, retry_after_ms=5, should_retry=False))
    with pytest.raises(anthropic.RateLimitError):
        _client(emu, retries=2).messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert _retry_counts(emu) == ["0"]


def test_status_fault_on_files_path(emu: Emulator) -> None:
    emu.inject(Fault("status", path="/v1/files", status=401))
    with pytest.raises(anthropic.AuthenticationError):
        _client(emu).files.list()
    assert _client(emu).files.list().data == []


def test_stream_error_event_raises_api_status_error_200(emu: Emulator) -> None:
    emu.queue_script([Text(LONG_TEXT)])
    emu.inject(Fault("stream_error", after_events=4))
    seen = []
    with pytest.raises(anthropic.APIStatusError) as info:
        with _client(emu, retries=2).messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
            for event in stream:
                seen.append(event.type)
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert info.value.type == "overloaded_error"
    assert info.value.body["error"]["message"] == "Overloaded"
    assert seen[0] == "message_start" and "text" in seen
    assert len(_retry_counts(emu)) == 1, "stream errors are not retried"


def test_cut_stream_raises_remote_protocol_error_after_early_events(emu: Emulator) -> None:
    emu.queue_script([Text(LONG_TEXT)])
    emu.inject(Fault("cut", after_events=5))
    texts = []
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        with _client(emu).messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
            for text in stream.text_stream:
                texts.append(text)
    # message_start, ping, block start, then two text deltas made it through.
    assert len(texts) == 2 and LONG_TEXT.startswith("".join(texts))


def test_cut_non_stream_raises_api_connection_error(emu: Emulator) -> None:
    emu.inject(Fault("cut"))
    with pytest.raises(anthropic.APIConnectionError):
        _client(emu).messages.create(model=MODEL, max_tokens=10, messages=HELLO)


def test_slow_delays_each_event(emu: Emulator) -> None:
    emu.queue_script([Text("a b c d e f g h")])
    emu.inject(Fault("slow", delay=0.02))
    arrivals = []
    started = time.monotonic()
    with _client(emu).messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
        for _ in stream:
            arrivals.append(time.monotonic() - started)
        assert stream.get_final_text() == "a b c d e f g h"
    # 8 wire events (start, ping, block start, 2 deltas, block stop, delta, stop), 20 ms each.
    assert arrivals[-1] >= 0.15
    assert arrivals[0] >= 0.02


def test_expire_container_fault(emu: Emulator) -> None:
    client = _client(emu)
    emu.queue_script([Text("first")])
    first = client.messages.create(model=MODEL, max_tokens=10, tools=TOOLS, messages=HELLO)
    emu.inject(Fault("expire_container"))
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(model=MODEL, max_tokens=10, tools=TOOLS, messages=HELLO, container=first.container.id)
    assert (info.value.status_code, info.value.type, info.value.error_code) == (400, "invalid_request_error", None)
    assert first.container.id in info.value.api_message
    assert emu.containers[first.container.id].expires_at.timestamp() < time.time()


def test_faults_are_fifo_and_used_up(emu: Emulator) -> None:
    emu.inject(Fault("status", status=500))
    emu.inject(Fault("status", status=529))
    client = _client(emu)
    with pytest.raises(anthropic.InternalServerError) as first:
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    assert type(first.value) is anthropic.InternalServerError
    assert client.messages.create(model=MODEL, max_tokens=10, messages=HELLO).content


def test_no_request_carries_anthropic_beta(emu: Emulator) -> None:
    client = _client(emu)
    client.files.upload(file=("a.csv", b"a\n1\n", "text/csv"))
    client.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
    with client.messages.stream(model=MODEL, max_tokens=10, messages=HELLO) as stream:
        stream.get_final_message()
    assert len(emu.requests) == 3
    assert all("anthropic-beta" not in r.headers for r in emu.requests)
