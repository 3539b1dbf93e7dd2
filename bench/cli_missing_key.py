"""How long `python -m lib.cli ask` takes to say that no API key is set, against the time to import what a run
needs (the SDK, pandas, SQLAlchemy, the emulator) in the same run. Prints figures.

Each measurement is a fresh interpreter, as a user's command is; the median of `--repeat` runs is reported.

    python bench/cli_missing_key.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# what `ask` imported before it could check the key
PIPELINE = "import lib.demo, lib.client, lib.files.library, lib.runs.jobs, lib.runs.view, lib.storage.store"


def seconds(argv: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    """Measure both, print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "ANALYST_"))}
        env.update(PYTHONPATH=str(REPO), HOME=home, ANALYST_DATA_DIR=str(Path(home) / "data"))
        ask = [sys.executable, "-m", "lib.cli", "ask", "any.csv", "a question"]
        imports = [sys.executable, "-c", PIPELINE]
        seconds(imports, env, home)  # warm the file cache for both
        check = statistics.median(seconds(ask, env, home) for _ in range(args.repeat))
        baseline = statistics.median(seconds(imports, env, home) for _ in range(args.repeat))
    print(f"missing key reported after {check:.2f} s (median of {args.repeat})")
    print(f"importing the run pipeline alone: {baseline:.2f} s")
    print(f"ratio: {check / baseline:.2f}")


if __name__ == "__main__":
    main()
