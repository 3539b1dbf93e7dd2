"""What a model's code can leave behind to hurt the app that shows it, and a finished run holding it (via the store)."""

from __future__ import annotations

import io
import json
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from lib.storage.store import Store
from lib.transcript import CodeCell, GeneratedFile, Output, Text, Usage

HUGE_NUMBER_ANSWER = "Revenue grew 2e9999999 times, 1e400 overall, and reached 1,200 units in March."


def wide_csv(columns: int = 60_000) -> bytes:
    """Half a megabyte or so of CSV with `columns` columns and two rows."""
    header = ",".join(f"c{i}" for i in range(columns))
    rows = [",".join(str((i + r) % 10) for i in range(columns)) for r in range(2)]
    return (header + "\n" + "\n".join(rows) + "\n").encode()


@lru_cache(maxsize=2)
def huge_png(side: int = 8000) -> bytes:
    """A PNG of side × side pixels that compresses to a few hundred KB."""
    image = Image.new("RGB", (side, side), (240, 240, 250))
    draw = ImageDraw.Draw(image)
    for n in range(0, side, side // 16):
        draw.line((0, n, side, side - n), fill=(30, 110, 200), width=9)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=1)
def over_the_pixel_limit_png() -> bytes:
    """A 10,000 × 9,000 PNG (90 M pixels, just over Pillow's bomb limit) of a few KB."""
    out = io.BytesIO()
    Image.new("1", (10_000, 9_000), 1).save(out, "PNG")
    return out.getvalue()


def deep_spec(depth: int = 20_000) -> bytes:
    """A `.vl.json` nested `depth` levels deep."""
    return b'{"mark": "bar", "data": {"values": ' + b"[" * depth + b"]" * depth + b"}}"


def heavy_spec(layers: int = 3_600) -> bytes:
    """A valid-looking Vega-Lite spec of about 600 KB whose schema check takes seconds."""
    layer = {
        "mark": {"type": "line"},
        "encoding": {
            "x": {"field": "a", "type": "quantitative"},
            "y": {"field": "b", "type": "quantitative"},
            "color": {"value": "red"},
        },
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": [{"a": 1, "b": 2}]},
        "layer": [layer] * layers,
    }
    return json.dumps(spec).encode()


def seed_with_outputs(
    data_dir: Path,
    question: str,
    answer: str,
    files: list[tuple[str, str, bytes]],
    store: Store | None = None,
) -> str:
    """A done run whose one code cell made `files` (name, MIME type, bytes) and whose answer is `answer`."""
    store = store or Store(data_dir)
    run = store.create_run(question, "claude-sonnet-4-6", "code_execution_20260521", [])
    idx = store.add_turn(run.id, question, [{"type": "text", "text": question}])
    folder = data_dir / "artifacts" / run.id
    folder.mkdir(parents=True, exist_ok=True)
    tool = f"srvtoolu_{run.id[:12]}"
    ids = [f"file_{run.id[:8]}_{i}" for i in range(len(files))]
    items = [
        CodeCell(tool_use_id=tool, tool="code_execution", code="save_outputs()", complete=True),
        Output(tool_use_id=tool, stdout="saved\n", file_ids=ids),
    ]
    for file_id, (name, mime, data) in zip(ids, files, strict=True):
        path = folder / f"{file_id}_{name}"
        path.write_bytes(data)
        rel = str(path.relative_to(data_dir))
        items.append(GeneratedFile(file_id, name, mime, len(data), rel, tool))
        store.add_artifact(run.id, idx, file_id, name, mime, len(data), rel, tool)
    items.append(Text(text=answer))
    for seq, item in enumerate(items):
        store.put_item(run.id, idx, seq, item)
    store.update_turn(run.id, idx, status="done", usage=Usage(input_tokens=10, output_tokens=20))
    store.update_run(run.id, status="done")
    return run.id
