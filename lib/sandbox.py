"""Run a parser of untrusted files in a child process with a memory limit, a CPU limit and a wall-clock timeout.

The Streamlit server is one process serving every user, so a zip bomb or a pathological file parsed there
would stall everyone. The child is a fresh interpreter (`python -m lib.sandbox`), not a fork of the server:
it copies none of the server's memory or threads. Only functions listed in TASKS can be called.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GB = 1 << 30
TASKS = {"inspect": ("lib.preview", "inspect_path")}


@dataclass(frozen=True)
class Limits:
    """How much one parse may use."""

    seconds: float = 10.0  # wall clock, including the child's start-up
    memory_bytes: int = 2 * GB  # address space of the child
    cpu_seconds: int = 20


class LimitExceeded(Exception):
    """The parse went over a limit or the child died; the message says which, in plain words."""


def call(task: str, *args: Any, limits: Limits | None = None) -> Any:
    """Run TASKS[task](*args) in a limited child; its return value or its exception, or LimitExceeded."""
    limits = limits or Limits()
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    request = pickle.dumps((task, args, limits))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # Arrow and OpenMP would otherwise start a thread per core in every child.
    env.setdefault("OMP_NUM_THREADS", "2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lib.sandbox"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(REPO),
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(request, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise LimitExceeded(f"reading it took longer than {limits.seconds:g} seconds, the limit") from None
    if proc.returncode == -signal.SIGXCPU or proc.returncode == -signal.SIGKILL:
        raise LimitExceeded(f"reading it needed more than {limits.cpu_seconds} seconds of processor time")
    try:
        status, value = pickle.loads(out) if out else ("crashed", err.decode(errors="replace")[-300:])
    except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError):
        status, value = "crashed", "unreadable answer"
    if status == "ok":
        return value
    if status == "raise":
        raise value
    if status == "memory":
        raise LimitExceeded(f"reading it needs more than {limits.memory_bytes / GB:.1f} GB of memory, the limit")
    if status == "recursion":
        raise LimitExceeded("it is nested too deeply to read")
    code = proc.returncode
    raise LimitExceeded(f"the reader stopped unexpectedly (exit status {code})")


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child's whole process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def _limit_self(limits: Limits) -> None:
    """Apply the limits to this (child) process."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main() -> None:
    """Child side: read one request on stdin, answer with one pickle on stdout."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answer
    task, args, limits = pickle.loads(sys.stdin.buffer.read())
    _limit_self(limits)
    module, name = TASKS[task]
    try:
        import importlib

        func = getattr(importlib.import_module(module), name)
        result: tuple[str, Any] = ("ok", func(*args))
    except MemoryError:
        result = ("memory", None)
    except RecursionError:
        result = ("recursion", None)
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller as a value
        result = ("raise", exc)
    try:
        payload = pickle.dumps(result)
    except Exception as exc:  # noqa: BLE001 - an exception that cannot be pickled
        payload = pickle.dumps(("crashed", f"{type(exc).__name__}: {exc}"))
    answer.write(payload)
    answer.flush()


if __name__ == "__main__":
    main()
