"""`python -m lib.emulator --port N [--pace realistic|model]`: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import threading

from .emulator import Emulator
from .pacing import Pacing


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, start the emulator, print its URL and wait."""
    parser = argparse.ArgumentParser(prog="python -m lib.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--pace",
        choices=["fast", "realistic", "model"],
        default="fast",
        help="model: first token after 0.5-1.5 s, whole answers in 5-20 s",
    )
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    args = parser.parse_args(argv)
    pacing = {"realistic": Pacing.realistic(), "model": Pacing.model_like()}.get(args.pace, Pacing())
    emulator = Emulator(api_key=args.api_key, pacing=pacing, host=args.host, port=args.port)
    url = emulator.start()
    print(url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
