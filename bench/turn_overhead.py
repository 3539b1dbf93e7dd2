"""What the turn code costs on top of the SDK: a recorded stream of about 10,000 events, replayed in process.

Times are CPU seconds of the thread doing the work (`time.thread_time`), so load from other processes on a
shared machine does not skew the ratio. Runs the same bytes through raw SDK iteration (`for event in client.messages.stream(...)`) and through
`lib.analysis.Turn(...).events()`, alternating, and prints the median time of each and their ratio (goal <= 1.05).

    python bench/turn_overhead.py [--events 10000] [--rounds 9] [--instructions]

`--instructions` also counts the instructions each side executes under valgrind's callgrind (the same count on
every run, whatever else the machine does): one process only warms up, one adds a raw SDK iteration, one adds
a turn; the differences are what one pass of each costs. It takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.analysis import Outcome, Turn
from tests.replay import replay_client, request


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def recorded_stream(target_events: int) -> tuple[bytes, int]:
    """A realistic analysis: text in small deltas, code cells streamed as JSON pieces, results; ~target events."""
    out = [
        sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_bench",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-6",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 2000, "output_tokens": 1, "cache_read_input_tokens": 1500},
                },
            },
        )
    ]
    index, cell = 0, 0
    while len(out) < target_events - 3:
        out.append(
            sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
        )
        for n in range(60):
            out.append(
                sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": f"word{n} and more "},
                    },
                )
            )
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
        tool_id = f"srvtoolu_{cell:04d}"
        out.append(
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "server_tool_use", "id": tool_id, "name": "code_execution", "input": {}},
                },
            )
        )
        code = json.dumps({"code": "".join(f"df['c{n}'] = df['a'] * {n}\n" for n in range(40))})
        pieces = [code[i : i + 24] for i in range(0, len(code), 24)]
        for piece in [""] + pieces:
            out.append(
                sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
            )
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
        out.append(
            sse(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "code_execution_tool_result",
                        "tool_use_id": tool_id,
                        "content": {
                            "type": "code_execution_result",
                            "stdout": "ok\n" * 5,
                            "stderr": "",
                            "return_code": 0,
                            "content": [],
                        },
                    },
                },
            )
        )
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
        cell += 1
    out.append(
        sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "container": {"id": "container_bench", "expires_at": "2026-11-30T13:00:00Z"},
                },
                "usage": {"output_tokens": 9000, "server_tool_use": {"code_execution_requests": cell}},
            },
        )
    )
    out.append(sse("message_stop", {"type": "message_stop"}))
    return "".join(out).encode(), len(out)


def raw_sdk(body: bytes) -> float:
    client, _ = replay_client([body])
    params = {"model": "claude-sonnet-4-6", "max_tokens": 1000, "messages": [{"role": "user", "content": "q"}]}
    start = time.thread_time()
    with client.messages.stream(**params) as stream:
        for _event in stream:
            pass
        stream.get_final_message()
    return time.thread_time() - start


def turn_code(body: bytes, data_dir: Path) -> float:
    client, _ = replay_client([body])
    turn = Turn(client, request(), data_dir, data_dir / "artifacts")
    start = time.thread_time()
    events = 0
    for event in turn.events():
        events += 1
        last = event
    elapsed = time.thread_time() - start
    assert isinstance(last, Outcome) and last.status == "done", last
    return elapsed


def one_pass(mode: str, events: int) -> None:
    """Warm both sides up, then run `mode` ('raw', 'turn' or 'none') once: the process callgrind counts."""
    body, _ = recorded_stream(events)
    with tempfile.TemporaryDirectory() as tmp:
        raw_sdk(body), turn_code(body, Path(tmp))
        if mode == "raw":
            raw_sdk(body)
        elif mode == "turn":
            turn_code(body, Path(tmp))


def instructions(events: int) -> dict[str, int]:
    """Instructions executed by a warmed-up process that does nothing more, one raw pass, or one turn."""
    procs = {
        mode: subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                sys.executable,
                __file__,
                "--one",
                mode,
                "--events",
                str(events),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        for mode in ("none", "raw", "turn")
    }
    counts = {}
    for mode, proc in procs.items():
        _, err = proc.communicate()
        counts[mode] = int(re.search(r"Collected : (\d+)", err).group(1))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--instructions", action="store_true", help="also count instructions with callgrind")
    parser.add_argument("--one", choices=("none", "raw", "turn"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_pass(args.one, args.events)
        return
    body, count = recorded_stream(args.events)
    print(f"recorded stream: {count:,} events, {len(body) / 1e6:.1f} MB")
    raw, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        raw_sdk(body), turn_code(body, Path(tmp))  # warm up imports and caches
        for _ in range(args.rounds):
            raw.append(raw_sdk(body))
            ours.append(turn_code(body, Path(tmp)))
    r, o = statistics.median(raw), statistics.median(ours)
    print(
        f"raw SDK iteration : median {r * 1000:8.1f} ms  ({r / count * 1e6:.1f} us/event), best {min(raw) * 1000:.1f} ms"
    )
    print(
        f"turn code         : median {o * 1000:8.1f} ms  ({o / count * 1e6:.1f} us/event), best {min(ours) * 1000:.1f} ms"
    )
    # the best of each side is the least disturbed by anything else the machine does
    print(f"ratio turn / raw  : {min(ours) / min(raw):.3f} best of {args.rounds}, {o / r:.3f} median   (goal <= 1.05)")
    if args.instructions:
        counts = instructions(args.events)
        raw_i, turn_i = counts["raw"] - counts["none"], counts["turn"] - counts["none"]
        print(f"instructions, raw SDK iteration : {raw_i:,}")
        print(f"instructions, turn code         : {turn_i:,}")
        print(f"ratio turn / raw (instructions) : {turn_i / raw_i:.3f}   (goal <= 1.05)")


if __name__ == "__main__":
    main()
