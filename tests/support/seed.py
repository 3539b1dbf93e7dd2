"""Test setup through the store: a finished run whose code saved a chart as PNG and as a Vega-Lite spec,
answered runs on catalogued files, started when a test needs, and a finished run whose answers' numbers were
traced as a turn's are when it ends."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from PIL import Image

from lib.runs.traces import keep_trace
from lib.storage.records import FileRecord, RunRecord
from lib.storage.store import Store
from lib.transcript import CodeCell, GeneratedFile, Item, Output, Text, Usage

CHART = "revenue_by_region"
QUESTION = "Which region sells most? Make the chart interactive."
BROKEN_SPEC = '{"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "mark": "bar", "data": '


def chart_spec() -> dict:
    """A small Vega-Lite v5 bar chart with its data inline."""
    rows = [("North", 120.5), ("South", 98.0), ("East", 143.25), ("West", 77.0)]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Revenue by region",
        "data": {"values": [{"region": r, "revenue": v} for r, v in rows]},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "region", "type": "nominal"},
            "y": {"field": "revenue", "type": "quantitative"},
        },
    }


def png_bytes() -> bytes:
    """A real 64x48 PNG."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 110, 200)).save(buf, format="PNG")
    return buf.getvalue()


def seed_chart_run(data_dir: Path, *, spec_text: str | None = None, demo: bool = False) -> str:
    """A done run with one code cell that saved `<CHART>.png` and `<CHART>.vl.json`; returns the run id."""
    store = Store(data_dir)
    run = store.create_run(QUESTION, "claude-sonnet-4-6", "code_execution_20260521", [], demo=demo)
    idx = store.add_turn(run.id, QUESTION, [{"type": "text", "text": QUESTION}])
    folder = data_dir / "artifacts" / run.id
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps(chart_spec()) if spec_text is None else spec_text
    files = [(f"{CHART}.png", "image/png", png_bytes()), (f"{CHART}.vl.json", "application/json", body.encode())]
    tool = f"srvtoolu_{run.id[:12]}"
    items = [
        Text(text="Here is revenue by region."),
        CodeCell(
            tool_use_id=tool, tool="code_execution", code="chart.save('revenue_by_region.vl.json')", complete=True
        ),
        Output(tool_use_id=tool, stdout="saved\n", file_ids=[f"file_{run.id[:8]}_{i}" for i in range(2)]),
    ]
    for i, (name, mime, data) in enumerate(files):
        file_id = f"file_{run.id[:8]}_{i}"
        path = folder / f"{file_id}_{name}"
        path.write_bytes(data)
        rel = str(path.relative_to(data_dir))
        items.append(GeneratedFile(file_id, name, mime, len(data), rel, tool))
        store.add_artifact(run.id, idx, file_id, name, mime, len(data), rel, tool)
    for seq, item in enumerate(items):
        store.put_item(run.id, idx, seq, item)
    store.update_turn(run.id, idx, status="done", usage=Usage(input_tokens=10, output_tokens=20))
    store.update_run(run.id, status="done")
    return run.id


def seed_file(store: Store, file_id: str, filename: str) -> str:
    """A catalogue entry of the store's owner (no upload, no local copy); returns its id."""
    store.add_file(FileRecord(file_id, filename, "text/csv", 10, file_id, "csv", "", time.time()))
    return file_id


def seed_run(
    store: Store, question: str, file_ids: list[str], started: float, answer: str = "Done.", status: str = "done"
) -> RunRecord:
    """A run of the store's owner that asked `question` on the files at `started` and answered `answer`."""
    run = store.create_run(question, "claude-sonnet-4-6", "code_execution_20260521", file_ids)
    idx = store.add_turn(run.id, question, [{"type": "text", "text": question}])
    store.put_item(run.id, idx, 0, Text(text=answer))
    store.update_turn(run.id, idx, status=status, usage=Usage(input_tokens=10, output_tokens=20))
    store.update_run(run.id, status=status, created_at=started)
    found = store.run(run.id)
    assert found is not None
    return found


def seed_traced_run(data_dir: Path, answers: list[list[Item]]) -> str:
    """A done run with one question per list of items, each turn's numbers traced and kept; returns the run id."""
    store = Store(data_dir)
    run = store.create_run("Costs", "claude-sonnet-4-6", "code_execution_20260521", [])
    for n, items in enumerate(answers, start=1):
        idx = store.add_turn(run.id, f"Question {n}", [])
        for seq, item in enumerate(items):
            store.put_item(run.id, idx, seq, item)
        keep_trace(store, data_dir, run.id, idx)
        store.update_turn(run.id, idx, status="done")
    store.update_run(run.id, status="done")
    return run.id
