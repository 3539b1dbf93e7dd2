"""What the profile in the files note saves an analysis: the demo analyst's first look at each sample, asked with the
stored profile in the request's files note and again with the note naming the file only (the baseline), in the
same run. Prints code cells, code executions, input and output tokens and the turn's wall-clock seconds of each.

The demo analyst really runs its cells (pandas in a local container), so its seconds are those of real code; its
tokens are the emulator's count (about 4 characters a token). Claude reads the same note; what it saves there is
the first cell it would write to learn the columns, and its output read back as input.

    python bench/profile_note.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.client import make_client
from lib.emulator import Emulator
from lib.files import library, samples, uploads
from lib.runs import jobs
from lib.settings import load_settings
from lib.storage.store import Store
from lib.transcript import CodeCell

QUESTION = "Give me a first look at this data."


def one_turn(store: Store, settings, file_id: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Ask the question on one file and wait; what the turn used."""
    started = time.perf_counter()
    run = jobs.new_run(store, settings, QUESTION, [file_id])
    assert jobs.wait(run.id, 120), "the turn did not finish"
    seconds = time.perf_counter() - started
    [turn] = store.turns(run.id)
    cells = [s.item for s in store.items(run.id) if isinstance(s.item, CodeCell)]
    assert turn.status == "done", turn.error
    return {
        "cells": len(cells),
        "executions": turn.usage.code_execution_requests,
        "input": turn.usage.input_tokens,
        "output": turn.usage.output_tokens,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="turns of each kind per sample; medians are shown")
    args = parser.parse_args()
    totals = {"with": [], "without": []}  # type: ignore[var-annotated]
    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        data_dir = Path(tmp)
        settings = load_settings(
            {}, {"ANTHROPIC_API_KEY": "bench", "ANTHROPIC_BASE_URL": emulator.url, "ANALYST_DATA_DIR": str(data_dir)}
        )
        store = Store(data_dir)
        client = make_client(settings)
        for sample in samples.list_samples():
            accepted = uploads.check_upload(sample.name, sample.path.read_bytes(), settings.max_upload_bytes, data_dir)
            assert isinstance(accepted, uploads.Accepted), accepted
            record = library.upload_accepted(client, store, data_dir, accepted).record
            assert record is not None and record.profile is not None
            rows = {}
            for side, profile in (("without", None), ("with", record.profile)):
                store.add_file(replace(record, profile=profile))
                turns = [one_turn(store, settings, record.id) for _ in range(args.repeat)]
                rows[side] = {k: statistics.median(t[k] for t in turns) for k in turns[0]}
                totals[side].append(rows[side])
            w, wo = rows["with"], rows["without"]
            print(
                f"{sample.name}: cells {wo['cells']:.0f} -> {w['cells']:.0f}; input tokens {wo['input']:,.0f} -> "
                f"{w['input']:,.0f}; output tokens {wo['output']:,.0f} -> {w['output']:,.0f}; "
                f"seconds {wo['seconds']:.2f} -> {w['seconds']:.2f} ({w['seconds'] / wo['seconds']:.2f})"
            )
    summed = {side: {k: sum(r[k] for r in rows) for k in rows[0]} for side, rows in totals.items()}
    w, wo = summed["with"], summed["without"]
    print(
        f"all samples, with the profile against without: cells {w['cells']:.0f}/{wo['cells']:.0f} "
        f"({w['cells'] / wo['cells']:.2f}), code executions {w['executions']:.0f}/{wo['executions']:.0f}, "
        f"output tokens {w['output'] / wo['output']:.2f}, input tokens {w['input'] / wo['input']:.2f}, "
        f"seconds {w['seconds'] / wo['seconds']:.2f}"
    )


if __name__ == "__main__":
    main()
