"""What the turn code costs on top of the SDK: a recorded stream of about 10,000 events, replayed in process.

The stream is the emulator's event-heavy turn (`lib.emulator.long_stream`): text in small deltas between
code cells with their results, recorded once from a local emulator. Times are CPU seconds of the thread doing
the work (`time.thread_time`), so load from other processes on a shared machine does not skew the ratio. Runs
the same bytes through raw SDK iteration (`for event in client.messages.stream(...)`) and through
`lib.turn.stream.Turn(...).events()`, alternating, and prints the median time of each and their ratio (goal <= 1.05).

    python bench/turn_overhead.py [--events 10000] [--cells 80] [--rounds 9] [--instructions]

`--instructions` also counts the instructions each side executes under valgrind's callgrind (the same count on
every run, whatever else the machine does): one process only warms up, one adds a raw SDK iteration, one adds
a turn; the differences are what one pass of each costs. It takes a few minutes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.emulator import Emulator
from lib.emulator.long_stream import event_heavy_script, record
from lib.emulator.sse import parse_events
from lib.turn.events import Outcome
from lib.turn.stream import Turn
from tests.support.sse_replay import replay_client, request


def recorded_stream(events: int, cells: int) -> tuple[bytes, int]:
    """The emulator's event-heavy turn of about `events` events and `cells` code cells, and its event count."""
    with Emulator(seed=7) as emulator:
        body = record(emulator, event_heavy_script(events, cells))
    return body, len(parse_events(body))


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


def one_pass(mode: str, body: bytes) -> None:
    """Warm both sides up, then run `mode` ('raw', 'turn' or 'none') once: the process callgrind counts."""
    with tempfile.TemporaryDirectory() as tmp:
        raw_sdk(body), turn_code(body, Path(tmp))
        if mode == "raw":
            raw_sdk(body)
        elif mode == "turn":
            turn_code(body, Path(tmp))


def instructions(stream: Path) -> dict[str, int]:
    """Instructions executed by a warmed-up process that does nothing more, one raw pass, or one turn, each
    replaying the stream recorded in `stream` (recorded here, so no process counts an emulator)."""
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
                "--stream",
                str(stream),
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
    # about the code cells of a 10,000-event analysis streaming code as many small input pieces
    parser.add_argument("--cells", type=int, default=80)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--instructions", action="store_true", help="also count instructions with callgrind")
    parser.add_argument("--one", choices=("none", "raw", "turn"), help=argparse.SUPPRESS)
    parser.add_argument("--stream", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_pass(args.one, args.stream.read_bytes())
        return
    body, count = recorded_stream(args.events, args.cells)
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
        with tempfile.NamedTemporaryFile(suffix=".sse") as stream:
            stream.write(body)
            stream.flush()
            counts = instructions(Path(stream.name))
        raw_i, turn_i = counts["raw"] - counts["none"], counts["turn"] - counts["none"]
        print(f"instructions, raw SDK iteration : {raw_i:,}")
        print(f"instructions, turn code         : {turn_i:,}")
        print(f"ratio turn / raw (instructions) : {turn_i / raw_i:.3f}   (goal <= 1.05)")


if __name__ == "__main__":
    main()
