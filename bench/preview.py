"""The Files page's first look and exact profile of a generated 190 MiB, 3 M-row CSV and of one 10x smaller, against
the naive pandas profile and DuckDB's own pass over the same statistics (the floor), in the same run. Prints figures.

With --draw: what drawing a run's generated files costs the server process, the files decoded in the sandbox
(as the app does) against the same decoding in the server process itself (the baseline), for a typical run
(a chart PNG, its spec, a summary CSV) and a hostile one (a 60,000-column CSV, an 8000×8000 PNG, a 600 KB spec).

Each side runs in its own subprocess so its peak RSS is its own. The app side holds the file's bytes in memory
(as Streamlit's uploader does) and warms its sandbox worker with a small file, then times:
- the first look: `lib.files.uploads.receive` from call to its return with the first look, server side, the
  sandbox hand-off included, while a thread writes the rest of the file and hashes it;
- the exact profile: `lib.files.profile.in_sandbox` of the whole file after its first look, call to result (what
  the background job runs once the file is written: DuckDB's pass in a worker that loads DuckDB alone), and the
  background job as a whole;
- peak memory of the server process over its baseline (libraries loaded, upload held), of the worker that read the
  whole file (the exact profile's) and of the one that read its head (the first look's), each from the first
  upload on: the warm-up file before it does not count.
The floor is the exact profile's one DuckDB query (`lib.files.scan.statement`) run in-process with the same
threads; the naive baseline is `read_csv` + `describe(include="all")` + `isna().mean()`. Processor times are
printed too: the machine may be shared, and they show how much work each side does whatever the load.

    python bench/preview.py [--rows 3000000] [--repeat 3] [--keep]
    python bench/preview.py --draw
"""

from __future__ import annotations

import argparse
import json
import shutil
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

# DuckDB's own pass over the same statistics, with the same threads and types: the floor of the exact profile.
FLOOR = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from lib.files import delimited, scan, tables
path = Path(sys.argv[1])
head = delimited.read_head_bytes(path)
head = head[: head.rfind(b"\\n") + 1]
dialect = delimited.csv_dialect(head)
schema = next(b for b in delimited.stream(head, dialect) if b is not delimited.RESTART).schema
sql = scan.statement(path, dialect, [c.duck for c in tables.scan_columns(schema)])
runs = []
for _ in range(int(sys.argv[3])):
    con = scan.connect()
    t = time.perf_counter()
    row = con.execute(sql).fetchone()
    runs.append(time.perf_counter() - t)
    con.close()
print(json.dumps({"seconds": min(runs), "runs": runs, "rows": row[0]}))
"""

# The server side: pandas and pyarrow are loaded and the uploaded bytes are held (Streamlit's uploader keeps
# them in memory); that is the baseline. The sandbox worker is warmed first, as the Files page does.
APP = """
import json, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import pandas, pyarrow
from lib.files import profile, sandbox, scan, uploads

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
data_dir = Path(tempfile.mkdtemp(prefix="analyst-bench-"))
t = time.perf_counter()
uploads.inspect_upload("warm.csv", warm, 500_000_000, data_dir=data_dir)  # starts the worker, loads its libraries
cold = time.perf_counter() - t
worker = sandbox.pool().worker_pids()[0]
worker_base = status(worker, "VmRSS")
try:
    Path(f"/proc/{worker}/clear_refs").write_text("5")  # its peak from here on, not the warm-up file's
except OSError:
    pass
baseline = status("self", "VmHWM")
looks, wholes, jobs, c, wc = [], [], [], time.process_time(), cpu_of(worker)
for _ in range(int(sys.argv[4])):
    t = time.perf_counter()
    intake = uploads.receive("bench.csv", data, 500_000_000, data_dir)
    looks.append(time.perf_counter() - t)
    intake.wait()
    jobs.append(time.perf_counter() - t)
    look = intake.look
    t = time.perf_counter()  # the exact pass the background job ran, again, once the file is all written
    exact = profile.in_sandbox(look, intake.path, "bench.csv", "csv", 50, 600)
    wholes.append(time.perf_counter() - t)
    intake.discard()
    intake._discard()
pids = sandbox.pool().worker_pids()
scanner = (scan.scan_pool().worker_pids() or [None])[0]
print(json.dumps({"look": min(looks), "looks": looks, "exact": min(wholes), "exacts": wholes, "job": min(jobs),
                  "cold_small": cold, "server_cpu": (time.process_time() - c) / len(looks),
                  "worker_cpu": (cpu_of(worker) - wc) / len(looks) if worker in pids else None,
                  "scan_cpu": cpu_of(scanner) / len(looks) if scanner else None,
                  "server_extra": max(0, status("self", "VmHWM") - baseline),
                  "child_base": worker_base,
                  "child_peak": status(worker, "VmHWM") if worker in pids else None,
                  "scan_peak": status(scanner, "VmHWM") if scanner else None,
                  "look_rows": look.rows, "look_note": look.note, "rows": exact.rows, "columns": exact.columns,
                  "note": exact.note, "quality": list(exact.quality)}))
"""


# One side of --draw in a fresh interpreter: the three files shown as a run page shows them, first draw and redraw.
DRAW = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import pandas, pyarrow.csv, PIL.Image, jsonschema
from lib.files import charts, decoded, heads, thumbs
from lib.limits import LIMITS

folder, where = Path(sys.argv[2]), sys.argv[3]


def here(folder):
    out = []
    for call in (lambda: heads.table_head(folder / "table.csv", "csv"),
                 lambda: thumbs.picture(folder / "chart.png", LIMITS.display_px),
                 lambda: charts.checked_spec(folder / "chart.vl.json")):
        try:
            out.append(call())
        except Exception as exc:
            out.append(exc)
    return out


def sandboxed(folder):
    return [heads.head_of(folder / "table.csv", "csv"), thumbs.display(folder / "chart.png"),
            decoded.of_file(charts.checked_spec, folder / "chart.vl.json")]


draw = here if where == "here" else sandboxed
draw(folder.parent / "warm")  # libraries, the Vega-Lite schema and the worker ready, as after a session's first run
base, cpu0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, time.process_time()
t = time.perf_counter()
draw(folder)
first, cpu = time.perf_counter() - t, time.process_time() - cpu0
t = time.perf_counter()
draw(folder)
again = time.perf_counter() - t
print(json.dumps({"first": first, "again": again, "cpu": cpu,
                  "extra": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base}))
"""


def draw_files(folder: Path, hostile: bool) -> None:
    """The files of a typical or a hostile run, as `DRAW` reads them."""
    import json

    import pandas as pd
    from PIL import Image

    sys.path.insert(0, str(REPO))
    from tests.support import model_outputs

    folder.mkdir(parents=True, exist_ok=True)
    if hostile:
        (folder / "table.csv").write_bytes(model_outputs.wide_csv())
        (folder / "chart.png").write_bytes(model_outputs.huge_png())
        (folder / "chart.vl.json").write_bytes(model_outputs.heavy_spec())
        return
    pd.DataFrame({"month": range(1, 25), "sales": range(100, 124)}).to_csv(folder / "table.csv", index=False)
    Image.new("RGB", (1200, 600), (30, 110, 200)).save(folder / "chart.png")
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"month": m, "sales": 100 + m} for m in range(1, 25)]},
        "mark": "line",
        "encoding": {"x": {"field": "month", "type": "quantitative"}, "y": {"field": "sales", "type": "quantitative"}},
    }
    (folder / "chart.vl.json").write_text(json.dumps(spec))


def draw_bench(repeat: int) -> None:
    """--draw: the server's share of drawing a run's files, sandboxed against decoded in the server."""
    root = Path(tempfile.mkdtemp(prefix="analyst-draw-"))
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    draw_files(root / "warm", hostile=False)
    for hostile in (False, True):
        folder = root / ("hostile" if hostile else "typical")
        draw_files(folder, hostile)
        sides = {}
        for where in ("here", "sandbox"):
            runs = [measure(DRAW, str(REPO), str(folder), where) for _ in range(repeat)]
            sides[where] = min(runs, key=lambda r: r["first"])
        here, box = sides["here"], sides["sandbox"]
        name = "hostile run (60,000-column CSV, 8000×8000 PNG, 600 KB spec)" if hostile else "typical run"
        print(f"{name}:")
        print(f"  decoded in the server (baseline): first draw {ms(here['first'])}, redraw {ms(here['again'])}, "
              f"server processor time {ms(here['cpu'])}, server memory +{here['extra'] / MIB:.0f} MiB")  # fmt: skip
        print(f"  decoded in the sandbox: first draw {ms(box['first'])}, redraw {ms(box['again'])}, "
              f"server processor time {ms(box['cpu'])}, server memory +{box['extra'] / MIB:.0f} MiB")  # fmt: skip
        print(f"  ratio sandbox / baseline: first draw {box['first'] / here['first']:.2f}, "
              f"server processor time {box['cpu'] / max(here['cpu'], 1e-9):.2f}")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


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


def measure_file(path: Path, repeat: int) -> dict:
    """The app's first look and exact profile, the naive pandas profile and the DuckDB floor of one file."""
    folder = path.parent
    path.read_bytes()  # warm the page cache so no side pays for the first read from disk
    warm = folder / "warm.csv"
    warm.write_bytes(b"".join(path.open("rb").readline() for _ in range(40_000)))  # about 2.5 MB
    naive = min((measure(NAIVE, str(path)) for _ in range(repeat)), key=lambda r: r["seconds"])
    floor = measure(FLOOR, str(path), str(REPO), str(repeat))
    app = measure(APP, str(path), str(REPO), str(warm), str(repeat))
    warm.unlink()
    return {"size": path.stat().st_size, "naive": naive, "floor": floor, "app": app}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows of the large file (the small: a tenth)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSVs in the temp directory")
    parser.add_argument("--draw", action="store_true", help="measure drawing a run's generated files instead")
    args = parser.parse_args()
    if args.draw:
        draw_bench(args.repeat)
        return
    folder = Path(tempfile.gettempdir()) / "analyst-bench"
    folder.mkdir(exist_ok=True)
    figures = {}
    for rows in (args.rows // 10, args.rows):
        path = folder / f"sales_{rows}.csv"
        if not path.exists():
            t = time.perf_counter()
            generate(path, rows)
            print(f"generated {path} in {time.perf_counter() - t:.1f} s")
        figures[rows] = measure_file(path, args.repeat)
        if not args.keep:
            path.unlink()
    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    mib = lambda n: f"{(n or 0) / MIB:.0f} MiB"  # noqa: E731
    for rows, f in figures.items():
        app, naive, floor = f["app"], f["naive"], f["floor"]
        print(f"\n{f['size'] / MIB:.0f} MiB, {rows:,} rows:")
        print(f"  first look (receive, server side, sandbox hand-off included): {ms(app['look'])} "
              f"(runs: {', '.join(ms(x) for x in app['looks'])}); {app['look_note']}")  # fmt: skip
        print(f"  exact profile (in the sandbox, after the first look): {ms(app['exact'])} "
              f"(runs: {', '.join(ms(x) for x in app['exacts'])}); the whole background job, writing included: "
              f"{ms(app['job'])}; {app['note']}")  # fmt: skip
        print(f"  DuckDB floor (the same query, {floor['rows']:,} rows, same threads): {ms(floor['seconds'])}")
        print(f"  naive pandas (read_csv + describe(include='all') + isna().mean()): {ms(naive['seconds'])} "
              f"({naive['cpu']:.2f} s of processor time), peak RSS {mib(naive['peak'])}")  # fmt: skip
        print(f"  processor time per upload: {app['server_cpu']:.2f} s in the server, "
              f"{app['worker_cpu'] or 0:.2f} s in the first-look worker, {app['scan_cpu'] or 0:.2f} s in the "
              f"exact-profile worker; first small file on a cold worker: {app['cold_small']:.2f} s")  # fmt: skip
        limit = f["size"] + 150 * MIB
        within = lambda n, limit=limit: "within" if n <= limit else "over"  # noqa: E731
        with_scan = app["server_extra"] + (app["scan_peak"] or 0)
        with_look = app["server_extra"] + (app["child_peak"] or 0)
        print(f"  memory: server {mib(app['server_extra'])} over its baseline (libraries loaded, upload held); "
              f"exact-profile worker (DuckDB alone) peak {mib(app['scan_peak'])}; first-look worker (reads the "
              f"head) peak {mib(app['child_peak'])}, {mib(app['child_base'])} of it its libraries, loaded before "
              f"any file")  # fmt: skip
        print(f"  memory against file size + 150 MiB = {mib(limit)}: server + exact-profile worker {mib(with_scan)} "
              f"({within(with_scan)}); server + first-look worker {mib(with_look)} ({within(with_look)}); "
              f"all three together {mib(with_scan + (app['child_peak'] or 0))}")  # fmt: skip
        print(f"  ratios: first look / naive pandas {app['look'] / naive['seconds']:.3f} (goal <= 0.125, 8x sooner); "
              f"exact profile / DuckDB floor {app['exact'] / floor['seconds']:.2f} (goal <= 1.2)")  # fmt: skip
        if app["quality"]:
            print("  notes: " + " | ".join(app["quality"]))
    small, large = figures[args.rows // 10]["app"], figures[args.rows]["app"]
    print(f"\nfirst look on the 10x larger file / on the smaller: {large['look'] / small['look']:.2f} (goal <= 1.5); "
          f"on the large file {ms(large['look'])} (goal <= 150 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
