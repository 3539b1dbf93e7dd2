"""Plays a script for one response: yields content blocks, running code as they are reached."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import runner
from .containers import Container, ContainerRegistry
from .faults import FaultQueue
from .files import FileStore
from .ids import IdFactory
from .live import Awaiting, LiveCode, ToolCall
from .pacing import Pacing
from .script import Bash, Edit, Later, Pause, Python, RawBlock, Step, Text, ToolFailure

# Tool versions whose Python runs through bash (no `code_execution` sub-tool), and those with Python only.
BASH_TOOLS = {"code_execution_20250825"}
PYTHON_TOOLS = {"code_execution_20250522"}
# Tool versions whose code can call the request's client tools (programmatic tool calling).
PTC_TOOLS = {"code_execution_20260120", "code_execution_20260521"}
# The caller type of a call made by code, where it is not the tool version itself: 20260521 runs the runtime of
# 20260120, and SDK 2.13 knows no 20260521 caller (a guess: GUESSES.md).
CALLER_TYPES = {"code_execution_20260521": "code_execution_20260120"}
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
    # How long a cell stopped at a tool call waits for the continuation with its results before it is killed.
    tool_wait_timeout: float = 600.0


@dataclass(frozen=True)
class Resume:
    """A continuation of a cell stopped at tool calls: the cell, and the results in the order of its calls."""

    awaiting: Awaiting
    results: list[dict[str, Any]]


class Turn:
    """One response's worth of script; iterate `blocks()` once."""

    def __init__(
        self,
        settings: TurnSettings,
        container: Container | None,
        steps: list[Step],
        tool_type: str | None,
        code_tools: dict[str, list[str]] | None = None,
        system: str = "",
        resume: Resume | None = None,
    ) -> None:
        self.settings = settings
        self.container = container
        self.steps = list(steps)
        self.tool_type = tool_type
        # client tools the code may await: name -> its input's parameter names, in order
        self.code_tools = dict(code_tools or {}) if tool_type in PTC_TOOLS else {}
        self.system = system
        self.resume = resume
        self.stop_reason = "end_turn"
        self.code_requests = 0
        self.output_chars = 0
        self.records: list[StepRecord] = list(resume.awaiting.records) if resume else []

    @property
    def stdout(self) -> str:
        """All stdout printed so far in this turn."""
        return "".join(r.stdout for r in self.records)

    @property
    def tools(self) -> list[str]:
        """The client tools the code may call."""
        return list(self.code_tools)

    def blocks(self) -> Iterator[dict[str, Any]]:
        """Content blocks in order; code runs between a tool use and its result. A cell that calls client tools
        ends the response with their `tool_use` blocks (stop_reason `tool_use`) and waits in the container."""
        if self.resume is not None:
            awaiting = self.resume.awaiting
            awaiting.live.answer(self.resume.results)
            if (yield from self._follow(awaiting)):
                return
            self.steps = awaiting.rest
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
            elif isinstance(step, Python) and self.code_tools:
                if (yield from self._live_step(step, queue)):
                    return
            else:
                yield from self._tool_step(step)
        if self.container is not None:
            self.container.pending = []

    def _live_step(self, step: Python, rest: list[Step]) -> Generator[dict[str, Any], None, bool]:
        """A Python cell that may await client tools; returns whether it stopped at tool calls."""
        assert self.container is not None
        use = self._tool_use("code_execution", {"code": step.code})
        yield use
        if self.settings.faults.take_kind("container_expired_result") is not None:
            self.settings.containers.expire(self.container.id)
            content = {"type": ERROR_TYPES["code_execution"], "error_code": "container_expired"}
            yield {"type": _result_type("code_execution"), "tool_use_id": use["id"], "content": content}
            return False
        cwd, s = self.container.workdir, self.settings
        before = runner.snapshot_outputs(cwd)
        live = LiveCode(step.code, cwd, s.bin_dir, s.code_timeout, self.code_tools, s.tool_wait_timeout)
        return (yield from self._follow(Awaiting(live, use, step, before, time.monotonic(), rest)))

    def _follow(self, awaiting: Awaiting) -> Generator[dict[str, Any], None, bool]:
        """Run a cell on to its next tool calls (yielded as `tool_use` blocks; True) or to its end (its result
        block; False)."""
        outcome = awaiting.live.next()
        if isinstance(outcome, list):
            awaiting.pending = []
            for call in outcome:
                block = self._client_call(call, awaiting.use["id"])
                awaiting.pending.append(block["id"])
                yield block
            awaiting.records = list(self.records)
            assert self.container is not None
            self.container.awaiting = awaiting
            self.stop_reason = "tool_use"
            return True
        content = self._code_result(outcome, awaiting.step, "code_execution", awaiting.before)
        rest = self.settings.pacing.code_delay - (time.monotonic() - awaiting.started)
        if rest > 0:
            time.sleep(rest)
        yield {"type": _result_type("code_execution"), "tool_use_id": awaiting.use["id"], "content": content}
        return False

    def _client_call(self, call: ToolCall, code_id: str) -> dict[str, Any]:
        """A call the code made of a client tool, as the `tool_use` block that asks the app to run it."""
        self.output_chars += len(json.dumps(call.input))
        return {
            "type": "tool_use",
            "id": self.settings.ids.client_tool_use(),
            "name": call.name,
            "input": call.input,
            "caller": {"type": CALLER_TYPES.get(self.tool_type or "", self.tool_type), "tool_id": code_id},
        }

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
        bash = self.settings.python_form == "bash" and self.tool_type not in PYTHON_TOOLS and not self.code_tools
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
        return self._code_result(result, step, name, before)

    def _code_result(self, result: runner.ExecResult, step: Step, name: str, before: runner.Snapshot) -> dict[str, Any]:
        """The result block's content for a finished code step, with the files it made stored."""
        assert self.container is not None
        cwd, s = self.container.workdir, self.settings
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
