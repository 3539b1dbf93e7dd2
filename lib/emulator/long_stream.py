"""A long streamed turn for benchmarks: a script of about N SSE events, recorded once and replayable.

`python -m lib.emulator.long_stream --events 10000 --out /tmp/long.sse` records one to a file; a benchmark
then serves it with `emulator.queue_replay(raw, event_delay=...)` so every run sees the same bytes.
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

from .emulator import Emulator
from .script import Python, Step, Text
from .sse import parse_events

TOOL = {"type": "code_execution_20260521", "name": "code_execution"}
# Fixed costs of a response: message_start, ping, message_delta, message_stop.
_ENVELOPE = 4
# One Python cell: tool use start, 5 input_json deltas, stop, then result start and stop.
_CELL = 9
_WORDS_PER_DELTA = 4


def event_heavy_script(events: int = 10_000, cells: int = 20) -> list[Step]:
    """Text blocks of many small deltas between `cells` tiny Python cells; streams as about `events` events."""
    texts = cells + 1
    per_text = max(1, (events - _ENVELOPE - cells * _CELL) // texts - 2)
    steps: list[Step] = []
    for i in range(texts):
        words = " ".join(f"w{i}.{j}" for j in range(per_text * _WORDS_PER_DELTA))
        steps.append(Text(words + "\n"))
        if i < cells:
            steps.append(Python(f"print({i})"))
    return steps


def record(emulator: Emulator, steps: list[Step], model: str = "claude-opus-4-8") -> bytes:
    """The raw SSE body of one streamed turn playing `steps` on a running emulator."""
    emulator.queue_script(steps)
    body = {
        "model": model,
        "max_tokens": 64000,
        "stream": True,
        "tools": [TOOL],
        "messages": [{"role": "user", "content": "Stream a long answer."}],
    }
    request = urllib.request.Request(
        emulator.url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-api-key": "record"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read()


def main(argv: list[str] | None = None) -> None:
    """Record an event-heavy turn to a file and print its event count."""
    parser = argparse.ArgumentParser(prog="python -m lib.emulator.long_stream", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    with Emulator(seed=7) as emulator:
        raw = record(emulator, event_heavy_script(args.events, args.cells))
    args.out.write_bytes(raw)
    print(f"{len(parse_events(raw))} events, {len(raw):,} bytes -> {args.out}")


if __name__ == "__main__":
    main()
