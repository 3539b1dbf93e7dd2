"""The emulator paced like a model: the first token after a wait drawn from a range, the whole answer lasting a
time drawn from another, its events spread evenly; through the real SDK."""

from __future__ import annotations

import time

import anthropic

from lib.emulator import Emulator, Pacing, Python, Text

TOOLS = [{"type": "code_execution_20260521", "name": "code_execution"}]


def test_a_model_like_answer_waits_for_its_first_token_then_spreads_over_its_length():
    pacing = Pacing(first_token=(0.6, 0.6), answer_seconds=(1.5, 1.5))
    with Emulator(pacing=pacing) as emu:
        emu.queue_script([Text("Looking at it now, one word at a time."), Python("print(6 * 7)"), Text("It is 42.")])
        client = anthropic.Anthropic(api_key="k", base_url=emu.url, max_retries=0)
        sent = time.monotonic()
        arrived = []
        with client.messages.stream(
            model="claude-sonnet-4-6",
            max_tokens=100,
            tools=TOOLS,
            messages=[{"role": "user", "content": "What is six times seven?"}],
        ) as stream:
            for event in stream:
                if event.type in ("content_block_start", "content_block_delta"):
                    arrived.append(time.monotonic() - sent)
            message = stream.get_final_message()
    assert 0.55 <= arrived[0] < 1.2, f"first content after {arrived[0]:.2f} s"
    assert 1.3 <= arrived[-1] < 2.5, f"last content after {arrived[-1]:.2f} s"
    middle = arrived[len(arrived) // 2]
    assert 0.8 < middle < 1.4, "spread evenly, not all at the end"
    assert message.content[-1].text == "It is 42."


def test_off_by_default_and_answers_are_drawn_from_the_ranges():
    assert list(Pacing().spread(iter([("ping", {})]))) == [("ping", {})]
    one, two = Pacing.model_like(seed=7), Pacing.model_like(seed=7)
    draws = [one._random.uniform(0.5, 1.5) for _ in range(3)]
    assert draws == [two._random.uniform(0.5, 1.5) for _ in range(3)], "a seed makes a bench repeatable"
