"""A code cell that awaits client tools (programmatic tool calling): it stops at a tool call, waits (across
HTTP requests) for the result, and goes on.

The cell runs in its own interpreter under `ptc_driver.py`, with two pipes beside stdout and stderr: the cell
writes each batch of calls on one, and blocks reading the other until `answer()` writes the results. The
cell's time limit counts only the time it runs, not the time it waits for results; a wait is bounded on its
own (`wait_timeout`), after which the cell is killed.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .runner import ExecResult, Snapshot, process_env
from .script import Step

DRIVER = Path(__file__).with_name("ptc_driver.py")
READ_CHUNK = 65536


@dataclass(frozen=True)
class ToolCall:
    """One call the code made: the tool's name and its input."""

    name: str
    input: dict[str, Any]


@dataclass
class Awaiting:
    """A cell stopped at tool calls, kept by its container until the continuation brings their results."""

    live: LiveCode
    use: dict[str, Any]  # the cell's server_tool_use block
    step: Step
    before: Snapshot  # the outputs folder before the cell ran, to find the files it makes
    started: float  # when the cell started (monotonic), for the pacing floor
    rest: list[Step]  # the script's steps after the cell
    records: list[Any] = field(default_factory=list)  # what the response's earlier code steps printed
    pending: list[str] = field(default_factory=list)  # ids of the tool_use blocks waiting for results


class LiveCode:
    """One running cell; `next()` until it returns an ExecResult, answering every batch of calls in between."""

    def __init__(
        self, code: str, cwd: Path, bin_dir: Path, timeout: float, tools: dict[str, list[str]], wait_timeout: float
    ) -> None:
        self.timeout_left = timeout
        self.wait_timeout = wait_timeout
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self._watchdog: threading.Timer | None = None
        self._lock = threading.Lock()
        self.ended = False
        self.timed_out = False  # killed for its time limit, or for waiting too long for a result
        calls_read, calls_write = os.pipe()
        answers_read, answers_write = os.pipe()
        env = process_env(cwd, bin_dir)
        env.update(_EMU_PTC_OUT=str(calls_write), _EMU_PTC_IN=str(answers_read), _EMU_PTC_TOOLS=json.dumps(tools))
        # a new session lets a timeout kill the cell and everything it started
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER)],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(calls_write, answers_read),
            start_new_session=True,
        )
        os.close(calls_write)
        os.close(answers_read)
        self._answers = os.fdopen(answers_write, "w", encoding="utf-8")
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [
            _thread(_drain, self.proc.stdout, self._out),
            _thread(_drain, self.proc.stderr, self._err),
        ]
        _thread(self._read_calls, os.fdopen(calls_read, "r", encoding="utf-8"))
        _thread(self._wait_exit)
        try:
            self.proc.stdin.write(code.encode())
            self.proc.stdin.close()
        except BrokenPipeError:  # the interpreter died at once; its exit says why
            pass

    def next(self) -> list[ToolCall] | ExecResult:
        """Run until the cell calls tools (their calls) or ends (what it printed and its return code)."""
        started = time.monotonic()
        try:
            kind, value = self._events.get(timeout=max(0.0, self.timeout_left))
        except queue.Empty:
            self._kill(timed_out=True)
            return self._result(-9)
        self.timeout_left -= time.monotonic() - started
        if kind == "calls":
            self._watch()
            return value
        return self._result(value)

    def answer(self, results: list[dict[str, Any]]) -> bool:
        """Hand the results (`content`, `is_error`, in the order of the calls) to the waiting cell; False when it
        is gone (killed after waiting too long)."""
        with self._lock:
            if self._watchdog is not None:
                self._watchdog.cancel()
            if self.ended:
                return False
        try:
            self._answers.write(json.dumps({"results": results}) + "\n")
            self._answers.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def abandon(self) -> None:
        """Kill the cell: its tool calls will never be answered."""
        with self._lock:
            if self._watchdog is not None:
                self._watchdog.cancel()
        self._kill()

    def _watch(self) -> None:
        with self._lock:
            self._watchdog = threading.Timer(self.wait_timeout, self._kill, kwargs={"timed_out": True})
            self._watchdog.daemon = True
            self._watchdog.start()

    def _kill(self, timed_out: bool = False) -> None:
        with self._lock:
            self.ended = True
            self.timed_out = self.timed_out or timed_out
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self._answers.close()
        except OSError:
            pass

    def _read_calls(self, stream: Any) -> None:
        for line in stream:
            batch = json.loads(line).get("calls") or []
            self._events.put(("calls", [ToolCall(str(c.get("name")), dict(c.get("input") or {})) for c in batch]))
        stream.close()

    def _wait_exit(self) -> None:
        code = self.proc.wait()
        for reader in self._readers:
            reader.join(5.0)
        self._events.put(("exit", code))

    def _result(self, return_code: int) -> ExecResult:
        self.proc.wait()
        for reader in self._readers:
            reader.join(5.0)
        with self._lock:
            self.ended = True
        out = b"".join(self._out).decode(errors="replace")
        err = b"".join(self._err).decode(errors="replace")
        return ExecResult(out, err, return_code, timed_out=self.timed_out)


def _drain(stream: Any, into: list[bytes]) -> None:
    while chunk := stream.read1(READ_CHUNK):
        into.append(chunk)
    stream.close()


def _thread(target: Any, *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True, name="emulator-live-code")
    thread.start()
    return thread
