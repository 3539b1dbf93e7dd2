"""Plays a script for one response: yields content blocks, running code as they are reached."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import runner
from .containers import Container, ContainerRegistry
from .faults import FaultQueue
from .files import FileStore
from .ids import IdFactory
from .pacing import Pacing
from .script import Bash, Edit, Later, Pause, Python, RawBlock, Step, Text, ToolFailure

# Tool versions whose Python runs through bash (no `code_execution` sub-tool), and those with Python only.
BASH_TOOLS = {"code_execution_20250825"}
PYTHON_TOOLS = {"code_execution_20250522"}
PythonForm = Literal["code_execution", "bash"]
RESULT_TYPES = {
    "code_execution": ("code_execution_tool_result", "code_execution_result", "code_execution_output"),
    "bash_code_execution": (
        "bash_code_execution_tool_result",
        "bash_code_execution_result",
        "bash_code_execution_output",
    ),
}
ERROR_TYPES = {
    "code_execution": "code_execution_tool_result_error",
    "bash_code_execution": "bash_code_execution_tool_result_error",
    "text_editor_code_execution": "text_editor_code_execution_tool_result_error",
}


@dataclass
class StepRecord:
    """What one executed code step produced, for later `Later` steps to read."""

    step: Step
    stdout: str = ""
    stderr: str = ""
    return_code: int = 0
    file_ids: list[str] = field(default_factory=list)


@dataclass
class TurnSettings:
    """What a turn needs from the emulator."""

    files: FileStore
    ids: IdFactory
    pacing: Pacing
    code_timeout: float
    bin_dir: Path
    faults: FaultQueue
    containers: ContainerRegistry
    # How Python steps come back under code_execution_20260120 and later.
    python_form: PythonForm = "code_execution"


class Turn:
    """One response's worth of script; iterate `blocks()` once."""

    def __init__(
        self, settings: TurnSettings, container: Container | None, steps: list[Step], tool_type: str | None
    ) -> None:
        self.settings = settings
        self.container = container
        self.steps = list(steps)
        self.tool_type = tool_type
        self.stop_reason = "end_turn"
        self.code_requests = 0
        self.output_chars = 0
        self.records: list[StepRecord] = []

    @property
    def stdout(self) -> str:
        """All stdout printed so far in this turn."""
        return "".join(r.stdout for r in self.records)

    def blocks(self) -> Iterator[dict[str, Any]]:
        """Content blocks in order; code runs between a tool use and its result."""
        queue = self.steps
        while queue:
            step = queue.pop(0)
            if isinstance(step, Later):
                queue[:0] = step.build(self)
            elif isinstance(step, Pause):
                if self.container is not None:
                    self.container.pending = queue
                self.stop_reason = "pause_turn"
                return
            elif isinstance(step, Text):
                self.output_chars += len(step.text)
                if step.citations:
                    yield {"type": "text", "text": step.text, "citations": [dict(c) for c in step.citations]}
                else:
                    yield {"type": "text", "text": step.text}
            elif isinstance(step, RawBlock):
                self.output_chars += len(json.dumps(step.block))
                yield dict(step.block)
            else:
                yield from self._tool_step(step)
        if self.container is not None:
            self.container.pending = []

    def _tool_use(self, name: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        self.code_requests += 1
        self.output_chars += len(json.dumps(tool_input))
        return {"type": "server_tool_use", "id": self.settings.ids.tool_use(), "name": name, "input": tool_input}

    def _tool_step(self, step: Step) -> Iterator[dict[str, Any]]:
        if isinstance(step, ToolFailure):
            use = self._tool_use(step.tool, step.input or _failure_input(step.tool))
            yield use
            content: dict[str, Any] = {"type": ERROR_TYPES[step.tool], "error_code": step.error_code}
            if step.error_message is not None or step.tool == "text_editor_code_execution":
                content["error_message"] = step.error_message or _failure_message(step.error_code)
            yield {"type": _result_type(step.tool), "tool_use_id": use["id"], "content": content}
            return
        if self.container is None:
            raise RuntimeError("code steps need a container")
        started = time.monotonic()
        if isinstance(step, Edit):
            use = self._tool_use("text_editor_code_execution", _edit_input(step))
            yield use
            content = self._run_edit(step)
        else:
            name, tool_input, command = self._code_call(step)
            use = self._tool_use(name, tool_input)
            yield use
            if self.settings.faults.take_kind("container_expired_result") is not None:
                # The container went away under this step: the step does not run, later requests naming the
                # container are refused.
                self.settings.containers.expire(self.container.id)
                content = {"type": ERROR_TYPES[name], "error_code": "container_expired"}
            else:
                content = self._run_code(step, name, command)
        # Pacing: a code step takes at least `code_delay` of wall time, like a real sandbox.
        rest = self.settings.pacing.code_delay - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)
        yield {"type": _result_type(use["name"]), "tool_use_id": use["id"], "content": content}

    def _code_call(self, step: Step) -> tuple[str, dict[str, Any], str]:
        if isinstance(step, Bash):
            return "bash_code_execution", {"command": step.command}, step.command
        assert isinstance(step, Python)
        bash = self.settings.python_form == "bash" and self.tool_type not in PYTHON_TOOLS
        if self.tool_type in BASH_TOOLS or bash:
            command = runner.heredoc(step.code)
            return "bash_code_execution", {"command": command}, command
        return "code_execution", {"code": step.code}, step.code

    def _run_code(self, step: Step, name: str, command: str) -> dict[str, Any]:
        assert self.container is not None
        cwd, s = self.container.workdir, self.settings
        before = runner.snapshot_outputs(cwd)
        if name == "code_execution":
            result = runner.run_python(command, cwd, s.bin_dir, s.code_timeout)
        else:
            result = runner.run_bash(command, cwd, s.bin_dir, s.code_timeout)
        record = StepRecord(step, result.stdout, result.stderr, result.return_code)
        self.records.append(record)
        if result.timed_out:
            return {"type": ERROR_TYPES[name], "error_code": "execution_time_exceeded"}
        for rel in runner.changed_outputs(before, runner.snapshot_outputs(cwd)):
            path = cwd / rel
            downloadable = s.faults.take_kind("not_downloadable") is None
            stored = s.files.add(path.name, path.read_bytes(), downloadable=downloadable)
            record.file_ids.append(stored.id)
        _, result_type, output_type = RESULT_TYPES[name]
        return {
            "type": result_type,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "return_code": result.return_code,
            "content": [{"type": output_type, "file_id": fid} for fid in record.file_ids],
        }

    def _run_edit(self, step: Edit) -> dict[str, Any]:
        assert self.container is not None
        cwd = self.container.workdir
        self.records.append(StepRecord(step))
        try:
            if step.command == "view":
                return runner.edit_view(cwd, step.path)
            if step.command == "create":
                return runner.edit_create(cwd, step.path, step.file_text or "")
            if step.command == "str_replace":
                return runner.edit_str_replace(cwd, step.path, step.old_str or "", step.new_str or "")
            raise runner.EditError("invalid_tool_input", f"Unknown command `{step.command}`.")
        except runner.EditError as err:
            return {
                "type": ERROR_TYPES["text_editor_code_execution"],
                "error_code": err.error_code,
                "error_message": str(err),
            }


def _result_type(tool: str) -> str:
    if tool == "text_editor_code_execution":
        return "text_editor_code_execution_tool_result"
    return RESULT_TYPES[tool][0]


def _edit_input(step: Edit) -> dict[str, Any]:
    data: dict[str, Any] = {"command": step.command, "path": step.path}
    for key in ("file_text", "old_str", "new_str"):
        if getattr(step, key) is not None:
            data[key] = getattr(step, key)
    return data


def _failure_input(tool: str) -> dict[str, Any]:
    if tool == "code_execution":
        return {"code": "print('hello')"}
    if tool == "bash_code_execution":
        return {"command": "echo hello"}
    return {"command": "view", "path": "missing.txt"}


def _failure_message(code: str) -> str:
    return {
        "file_not_found": "File not found.",
        "execution_time_exceeded": "Execution time exceeded.",
        "too_many_requests": "Too many requests.",
        "unavailable": "The tool is temporarily unavailable.",
        "invalid_tool_input": "Invalid tool input.",
        "output_file_too_large": "Output file too large.",
    }.get(code, code)
