"""The SSE wire format both ways: events encoded as the API sends them, and recorded bytes read back."""

from __future__ import annotations

from lib.emulator.sse import encode, message_events, parse_events


def test_parse_events_reads_back_what_encode_wrote() -> None:
    blocks = [{"type": "text", "text": "one two three four five"}]
    finish = ({"stop_reason": "end_turn"}, {"output_tokens": 5})
    events = list(message_events({"id": "msg_1", "content": []}, blocks, lambda: finish))
    raw = b"".join(encode(name, data) for name, data in events)
    assert parse_events(raw) == events
    assert [name for name, _ in events][:3] == ["message_start", "ping", "content_block_start"]


def test_parse_events_skips_messages_without_an_event_line() -> None:
    raw = b'data: {"type":"ping"}\n\n' + encode("message_stop", {"type": "message_stop"})
    assert parse_events(raw) == [("message_stop", {"type": "message_stop"})]
