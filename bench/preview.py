"""Check + preview of a ~200 MB, 3 M-row CSV against the naive pandas profile, in the same run. Prints figures.

Each side runs in its own subprocess so its peak RSS is its own. The app side holds the file's bytes in
memory first (as Streamlit's uploader does), then calls lib.uploads.inspect_upload, which parses in a
limited child: its peak is reported separately, and the sum is compared with file size + 150 MiB.

    python bench/preview.py [--rows 3000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIB = 1 << 20

NAIVE = """
import json, resource, sys, time
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
desc = df.describe(include="all")
missing = df.isna().mean()
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "rows": len(df), "columns": df.shape[1]}))
"""

APP = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import pandas, pyarrow  # the server has these loaded already
from lib.uploads import inspect_upload
data = Path(sys.argv[1]).read_bytes()
t = time.perf_counter()
checked = inspect_upload("bench.csv", data, 500_000_000)
elapsed = time.perf_counter() - t
p = checked.preview
print(json.dumps({"seconds": elapsed, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "child_peak": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
                  "verdict": type(checked.verdict).__name__, "rows": getattr(p, "rows", None),
                  "columns": getattr(p, "columns", None), "note": getattr(p, "note", str(checked.verdict))}))
"""


def generate(path: Path, rows: int) -> None:
    """A sales-like CSV: ids, dates, categories, high-cardinality customers, numbers with gaps, text."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    regions = np.array(["North", "South", "East", "West", "Central", "Online", "Wholesale", "Retail"])
    channels = np.array(["web shop", "phone order", "store counter", "partner portal", "field sales"])
    with open(path, "w") as handle:
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            amount = rng.normal(250, 80, n).round(2).astype(object)
            amount[rng.random(n) < 0.03] = ""
            pd.DataFrame(
                {
                    "order_id": np.arange(start, start + n),
                    "date": (np.datetime64("2020-01-01") + rng.integers(0, 1800, n)).astype(str),
                    "region": regions[rng.integers(0, len(regions), n)],
                    "channel": channels[rng.integers(0, len(channels), n)],
                    "customer": np.char.add("C", rng.integers(0, 200_000, n).astype(str)),
                    "amount": amount,
                    "units": rng.integers(1, 50, n),
                    "discount": rng.random(n).round(3),
                    "returned": rng.random(n) < 0.05,
                }
            ).to_csv(handle, index=False, header=start == 0)


def measure(script: str, *args: str) -> dict:
    """Run one side in a fresh interpreter and read its figures."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV in the temp directory")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "analyst-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"sales_{args.rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t:.1f} s")
    size = path.stat().st_size
    print(f"file: {size / MIB:.0f} MiB, {args.rows:,} rows")
    # warm the page cache so neither side pays for the first read from disk
    path.read_bytes()
    naive = measure(NAIVE, str(path))
    app = measure(APP, str(path), str(REPO))
    total_app_peak = app["peak"] + app["child_peak"]
    print(f"naive pandas (read_csv + describe(include='all') + isna().mean()): {naive['seconds']:.2f} s, "
          f"peak RSS {naive['peak'] / MIB:.0f} MiB")  # fmt: skip
    print(f"app check + preview (inspect_upload): {app['seconds']:.2f} s, "
          f"peak RSS {app['peak'] / MIB:.0f} MiB in the server process (holding the file's bytes) "
          f"+ {app['child_peak'] / MIB:.0f} MiB in the parsing child")  # fmt: skip
    print(f"app verdict: {app['verdict']}; {app['note']}")
    print(f"speed-up: {naive['seconds'] / app['seconds']:.2f}x (goal: at least 4x)")
    print(f"app peak (server + child) over file size: {(total_app_peak - size) / MIB:.0f} MiB (goal: at most 150 MiB); "
          f"child alone: {app['child_peak'] / MIB:.0f} MiB")  # fmt: skip
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
