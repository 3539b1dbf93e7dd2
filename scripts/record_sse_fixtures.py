"""Record raw SSE bodies from lib.emulator into tests/fixtures/sse/*.sse.

Run from anywhere: `python scripts/record_sse_fixtures.py`. Ids and timestamps are fixed (seeded ids, frozen
clock), so re-running gives the same files unless the scripts below change.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.emulator import (  # noqa: E402
    Bash,
    Edit,
    Emulator,
    Pause,
    Python,
    RawBlock,
    Step,
    Text,
    ToolFailure,
)

OUT = ROOT / "tests" / "fixtures" / "sse"
FROZEN_NOW = 1_795_000_000.0  # 2026-11-18T11:06:40Z
TOOL = {"type": "code_execution_20260521", "name": "code_execution"}
LEGACY_TOOL = {"type": "code_execution_20250825", "name": "code_execution"}

PNG_CODE = """\
import os
import matplotlib.pyplot as plt
values = [1, 2, 3]
print(f"mean = {sum(values) / len(values)}")
fig, ax = plt.subplots(figsize=(4, 3))
ax.bar(["a", "b", "c"], values)
fig.savefig(os.path.join(os.environ["OUTPUT_DIR"], "chart.png"))
print("saved chart.png")
"""

ERROR_CODES = {
    "code_execution": ["invalid_tool_input", "unavailable", "too_many_requests", "execution_time_exceeded"],
    "bash_code_execution": [
        "invalid_tool_input",
        "unavailable",
        "too_many_requests",
        "execution_time_exceeded",
        "output_file_too_large",
    ],
    "text_editor_code_execution": [
        "invalid_tool_input",
        "unavailable",
        "too_many_requests",
        "execution_time_exceeded",
        "file_not_found",
    ],
}

SCRIPTS: dict[str, tuple[list[Step], dict]] = {
    "text_only": ([Text("Hello! Upload a CSV, Excel, JSON or Parquet file and I will analyse it for you.")], TOOL),
    "python_png": (
        [
            Text("I'll compute the mean and draw a bar chart."),
            Python(PNG_CODE),
            Text("The mean is 2.0 and the chart is saved as chart.png."),
        ],
        TOOL,
    ),
    "bash_stderr": (
        [
            Text("Let me run the check script."),
            Bash("echo 'checked 3 rows'; echo 'error: column total is missing' >&2; exit 2"),
            Text("The check failed with exit code 2: the column `total` is missing."),
        ],
        TOOL,
    ),
    "editor_ops": (
        [
            Edit("create", "config.json", file_text='{\n  "debug": true,\n  "rows": 3\n}\n'),
            Edit("view", "config.json"),
            Edit("str_replace", "config.json", old_str='"debug": true', new_str='"debug": false'),
            Text("Debug mode is now off in config.json."),
        ],
        TOOL,
    ),
    "tool_errors": (
        [
            *[ToolFailure(tool, code) for tool, codes in ERROR_CODES.items() for code in codes],  # type: ignore[arg-type]
            Text("Every tool call failed."),
        ],
        TOOL,
    ),
    "encrypted_and_unknown": (
        [
            RawBlock(
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_01EncryptedCall0000000",
                    "name": "code_execution",
                    "input": {"code": "r = web_search('pandas 3 release')\nprint(r)"},
                }
            ),
            RawBlock(
                {
                    "type": "code_execution_tool_result",
                    "tool_use_id": "srvtoolu_01EncryptedCall0000000",
                    "content": {
                        "type": "encrypted_code_execution_result",
                        "encrypted_stdout": "RW5jcnlwdGVkT3V0cHV0",
                        "stderr": "",
                        "return_code": 0,
                        "content": [],
                    },
                }
            ),
            RawBlock(
                {"type": "mystery_block_2027", "id": "mystery_01", "payload": {"note": "a block type from the future"}}
            ),
            Text("Some results are encrypted, and one block type is unknown."),
        ],
        TOOL,
    ),
    "pause_turn": (
        [
            Text("This will take a while; starting with the first step."),
            Python("total = sum(range(10))\nopen('total.txt', 'w').write(str(total))\nprint(total)"),
            Pause(),
            Python("print('total was', open('total.txt').read())"),
            Text("Finished after the pause."),
        ],
        TOOL,
    ),
    "legacy_20250825": (
        [
            Text("Running Python through bash, as the 20250825 tool does."),
            Python("import statistics\nprint(statistics.mean([1, 2, 3, 4]))"),
            Text("The mean is 2.5."),
        ],
        LEGACY_TOOL,
    ),
}


def _post(url: str, body: dict) -> bytes:
    request = urllib.request.Request(
        url + "/v1/messages",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", "x-api-key": "recorder"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def record() -> list[Path]:
    """Play each script once (and the pause_turn continuation) and write the bodies."""
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (steps, tool) in SCRIPTS.items():
        # A fresh emulator per fixture keeps ids independent of the order of SCRIPTS.
        with Emulator(seed=2027, clock=lambda: FROZEN_NOW) as emu:
            emu.queue_script(steps)
            messages = [{"role": "user", "content": f"fixture: {name}"}]
            body = {
                "model": "claude-opus-4-8",
                "max_tokens": 4096,
                "stream": True,
                "tools": [tool],
                "messages": messages,
            }
            raw = _post(emu.url, body)
            written.append(_write(name, raw))
            if name == "pause_turn":
                paused = _final_message(raw)
                body["messages"] = messages + [{"role": "assistant", "content": paused["content"]}]
                body["container"] = paused["container"]["id"]
                written.append(_write("pause_turn_continuation", _post(emu.url, body)))
    return written


def _write(name: str, raw: bytes) -> Path:
    path = OUT / f"{name}.sse"
    path.write_bytes(raw)
    return path


def _final_message(raw: bytes) -> dict:
    """Rebuild the message from SSE (enough for a continuation request)."""
    message: dict = {}
    partial: dict[int, str] = {}
    for chunk in raw.decode().strip().split("\n\n"):
        data = json.loads(chunk.split("\n", 1)[1].removeprefix("data: "))
        if data["type"] == "message_start":
            message = data["message"]
        elif data["type"] == "content_block_start":
            message["content"].append(data["content_block"])
        elif data["type"] == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            else:
                partial[data["index"]] = partial.get(data["index"], "") + delta["partial_json"]
        elif data["type"] == "message_delta":
            message.update(data["delta"])
    for index, text in partial.items():
        message["content"][index]["input"] = json.loads(text)
    return message


if __name__ == "__main__":
    for path in record():
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
