"""Check + preview of a ~200 MB, 3 M-row CSV against the naive pandas profile, in the same run. Prints figures.

Each side runs in its own subprocess so its peak RSS is its own. The app side holds the file's bytes in
memory first (as Streamlit's uploader does) and warms its parsing worker with a small file, then calls
lib.files.uploads.inspect_upload, which writes the bytes to a temporary file once and parses it in the limited
worker. The server's memory over its baseline and the worker's peak are reported, and their sum is compared
with file size + 150 MiB. Processor times are printed too: the machine may be shared, and they show how
much work each side does whatever the load.

    python bench/preview.py [--rows 3000000] [--repeat 3] [--keep]
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
t, c = time.perf_counter(), time.process_time()
df = pd.read_csv(sys.argv[1])
desc = df.describe(include="all")
missing = df.isna().mean()
elapsed, cpu = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "rows": len(df), "columns": df.shape[1]}))
"""

# The server side: pandas and pyarrow are loaded and the uploaded bytes are held (Streamlit's uploader keeps
# them in memory); that is the baseline. The parsing worker is warmed first, as the Files page does.
APP = """
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import pandas, pyarrow
from lib.files import sandbox
from lib.files.uploads import inspect_upload

def status(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0

def cpu_of(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

data = Path(sys.argv[1]).read_bytes()
warm = bytes(Path(sys.argv[3]).read_bytes())
t = time.perf_counter()
inspect_upload("warm.csv", warm, 500_000_000)  # starts the worker and loads its libraries
cold = time.perf_counter() - t
worker = sandbox.pool().worker_pids()[0]
baseline = status("self", "VmRSS")
worker_cpu = cpu_of(worker)
runs, c = [], time.process_time()
for _ in range(int(sys.argv[4])):
    t = time.perf_counter()
    checked = inspect_upload("bench.csv", data, 500_000_000)
    runs.append(time.perf_counter() - t)
elapsed = min(runs)
server_cpu = (time.process_time() - c) / len(runs)
p = checked.preview
pids = sandbox.pool().worker_pids()
print(json.dumps({"seconds": elapsed, "runs": runs, "cold_small": cold, "server_cpu": server_cpu,
                  "worker_cpu": (cpu_of(worker) - worker_cpu) / len(runs) if worker in pids else None,
                  "same_worker": worker in pids,
                  "server_extra": max(0, status("self", "VmHWM") - baseline),
                  "child_peak": status(worker, "VmHWM") if worker in pids else None,
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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the fastest counts")
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
    warm = folder / "warm.csv"
    warm.write_bytes(b"".join(path.open("rb").readline() for _ in range(40_000)))  # about 2.5 MB: goes to the worker
    naive_runs = [measure(NAIVE, str(path)) for _ in range(args.repeat)]
    naive = min(naive_runs, key=lambda r: r["seconds"])
    app = measure(APP, str(path), str(REPO), str(warm), str(args.repeat))
    mib = lambda n: f"{(n or 0) / MIB:.0f} MiB"  # noqa: E731
    naive_times = ", ".join(f"{r['seconds']:.2f}" for r in naive_runs)
    app_times = ", ".join(f"{r:.2f}" for r in app["runs"])
    print(f"runs (s): naive {naive_times}; app {app_times}; the fastest of each is compared")
    print(f"naive pandas (read_csv + describe(include='all') + isna().mean()): {naive['seconds']:.2f} s "
          f"({naive['cpu']:.2f} s of processor time), peak RSS {mib(naive['peak'])}")  # fmt: skip
    print(f"app check + preview (inspect_upload, warm worker): {app['seconds']:.2f} s "
          f"(processor time per run: {app['server_cpu']:.2f} s in the server, {app['worker_cpu'] or 0:.2f} s in the worker); "
          f"first small file on a cold worker: {app['cold_small']:.2f} s")  # fmt: skip
    print(f"app verdict: {app['verdict']}; {app['note']}")
    print(f"speed-up: {naive['seconds'] / app['seconds']:.2f}x wall clock (goal: at least 4x); "
          f"{naive['cpu'] / (app['server_cpu'] + (app['worker_cpu'] or 0)):.2f}x processor time")  # fmt: skip
    total = app["server_extra"] + (app["child_peak"] or 0)
    print(f"memory: server process {mib(app['server_extra'])} over its baseline (libraries loaded, upload held); "
          f"worker peak {mib(app['child_peak'])}; sum {mib(total)} against file size + 150 MiB = "
          f"{mib(size + 150 * MIB)} ({'within' if total <= size + 150 * MIB else 'over'} the goal)")  # fmt: skip
    warm.unlink()
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
