"""An upload's way in: written to disk once, looked at at once, checked and profiled whole in the background while
other uploads and analyses go on; a file refused by the whole check leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.client import make_client
from lib.files import api, library, uploads
from lib.files.preview import TablePreview
from lib.runs import jobs
from lib.settings import load_settings
from tests.support.runs import upload, wait_for

REPO = Path(__file__).resolve().parents[2]


def big_csv(rows: int) -> bytes:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "region": np.array(["North", "South", "East", "West"])[rng.integers(0, 4, rows)],
            "amount": rng.normal(250, 80, rows).round(2),
        }
    )
    return frame.to_csv(index=False).encode()


def written() -> int:
    """Bytes this process has handed to write() calls so far: files and pipes (socket sends are not counted)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise AssertionError("no wchar in /proc/self/io")


@pytest.fixture
def api_elsewhere():
    """The emulator in a process of its own, so the API side's writes (it spools uploads to disk) are not counted."""
    proc = subprocess.Popen([sys.executable, "-m", "lib.emulator"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        yield proc.stdout.readline().strip()  # type: ignore[union-attr]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux's per-process I/O counters")
def test_an_upload_is_written_to_disk_once(api_elsewhere, store, data_dir):
    data = big_csv(200_000)  # about 4 MB, so a second copy could not hide in the noise
    client = make_client(load_settings({}, {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": api_elsewhere}))
    uploads.warm()
    before = written()
    checked = uploads.inspect_upload("orders.csv", data, 100_000_000, data_dir=data_dir)
    result = library.upload_accepted(client, store, data_dir, checked.verdict)  # type: ignore[arg-type]
    wrote = written() - before
    assert result.record is not None and result.record.profile is not None
    assert (data_dir / result.record.local_path).read_bytes() == data
    assert len(data) <= wrote < 1.5 * len(data), f"{wrote:,} bytes written for a {len(data):,}-byte upload"
    assert not list((data_dir / uploads.INCOMING).iterdir()), "the checked copy was moved, not copied"
    assert [f.filename for f in api.list_all(client)] == ["orders.csv"]


def test_the_first_look_comes_before_the_whole_check_which_goes_on_in_the_background(data_dir):
    data = big_csv(300_000)
    intake = uploads.receive("orders.csv", data, 100_000_000, data_dir)
    assert isinstance(intake.look, TablePreview) and not intake.look.rows_exact
    assert intake.path is not None and intake.path.parent == data_dir / uploads.INCOMING
    checked = intake.wait(60)
    assert checked is not None and isinstance(checked.verdict, uploads.Accepted)
    assert checked.verdict.profile is not None and checked.verdict.profile.rows == 300_000
    assert intake.done == intake.size and checked.preview.rows_exact  # type: ignore[union-attr]
    assert checked.preview.head.equals(intake.look.head)  # type: ignore[union-attr]


def test_a_file_refused_by_the_whole_check_leaves_no_copy(data_dir):
    data = big_csv(100_000) + b"1,\x00,3\n"  # binary data far past the head
    intake = uploads.receive("late.csv", data, 100_000_000, data_dir)
    assert isinstance(intake.look, TablePreview), "its head looks fine"
    checked = intake.wait(60)
    assert checked is not None and isinstance(checked.verdict, uploads.Rejected)
    assert "contains binary data" in checked.verdict.reason
    assert not intake.path.exists()  # type: ignore[union-attr]


def test_a_file_taken_out_of_the_uploader_leaves_no_copy(data_dir):
    intake = uploads.receive("small.csv", b"a,b\n1,2\n", 100_000_000, data_dir)
    assert intake.path is not None and intake.path.exists()
    intake.discard()
    wait_for(lambda: not intake.path.exists(), 10, "the copy to be removed")  # type: ignore[union-attr]


def test_the_exact_profile_runs_while_another_upload_and_an_analysis_go_on(
    emulator, settings, store, data_dir, monkeypatch
):
    earlier = upload(settings, store, "sales.csv", b"month,units\n2024-01,3\n2024-02,5\n")
    reading, go_on = threading.Event(), threading.Event()
    told = uploads.Intake.told

    def held(self: uploads.Intake, done: int) -> None:  # the worker is reading the whole file: hold its news
        told(self, done)
        reading.set()
        go_on.wait(60)

    monkeypatch.setattr(uploads.Intake, "told", held)
    big = uploads.receive("orders.csv", big_csv(400_000), settings.max_upload_bytes, data_dir)
    assert reading.wait(60), "the whole check did not start"
    try:
        # meanwhile: another file is checked and uploaded, and an analysis runs to its end
        other = upload(settings, store, "regions.csv", b"region,target\nNorth,5\nSouth,7\n")
        run = jobs.new_run(store, settings, "Give me a first look at this data", [earlier])
        assert jobs.wait(run.id, 60) and store.run(run.id).status == "done"
        assert store.file(other).profile is not None
        assert big.profiling, "the big file's exact profile was still going on"
    finally:
        go_on.set()
    checked = big.wait(60)
    assert checked is not None and isinstance(checked.verdict, uploads.Accepted)
    assert checked.verdict.profile.rows == 400_000  # type: ignore[union-attr]
    started = time.monotonic()
    assert library.upload_accepted(make_client(settings), store, data_dir, checked.verdict).record is not None
    assert time.monotonic() - started < 30
