"""Run parsers of untrusted files in warm, limited worker processes with a wall-clock timeout per task.

The Streamlit server is one process serving every user, so a zip bomb or a pathological file parsed there
would stall everyone. Parsing happens in long-lived workers (`python -m lib.files.sandbox`, fresh interpreters,
not forks of the server) that import the heavy libraries once, set their memory limit once and then take
one task at a time over a pipe. A task that runs past its time is killed with its worker, so it costs one
clear message and the next file gets a fresh worker. Each task also gets its own processor-time allowance
(the child raises its soft RLIMIT_CPU before every task). A worker is busy with one task at a time; when
every worker is busy another one is started, up to MAX_WORKERS, so one user's slow file never queues
another user's small one. Only functions named in the pool's task table can be called.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
GB = 1 << 30
MB = 1 << 20
TASKS: dict[str, tuple[str, str]] = {
    "inspect": ("lib.files.preview", "inspect_path"),
    "columns": ("lib.files.preview", "column_names"),
    "numbers": ("lib.files.file_numbers", "numbers_in_file"),
}
# Imported by every worker before it says it is ready, so no task pays for them.
PRELOAD = ("pandas", "pyarrow", "pyarrow.csv", "pyarrow.compute", "duckdb")
START_SECONDS = 60.0  # how long a new worker may take to import its libraries on a busy machine
KEEP_IDLE = 1  # warm workers kept waiting between tasks
MAX_WORKERS = 4  # workers at once; beyond this a task waits for a free one
RETIRE_RSS = 700 * MB  # a worker that has grown past this after a task is replaced
RETIRE_TASKS = 200
_HEADER = struct.Struct(">Q")


@dataclass(frozen=True)
class Limits:
    """How much one parse may use."""

    seconds: float = 10.0  # wall clock of one task
    memory_bytes: int = 2 * GB  # memory a worker may write to (RLIMIT_DATA)
    cpu_seconds: int = 20  # processor time of one task, all threads (at least twice its wall-clock limit)


class LimitExceeded(Exception):
    """The parse went over a limit or the worker died; the message says which, in plain words."""


class _Worker:
    """One child process and its pipes; used by one task at a time."""

    def __init__(self, tasks: dict[str, tuple[str, str]], limits: Limits) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        # Arrow, DuckDB and OpenMP would otherwise start a thread per core in every worker.
        env.setdefault("OMP_NUM_THREADS", "2")
        env.setdefault("MALLOC_ARENA_MAX", "2")
        self.stderr: IO[bytes] = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lib.files.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=str(REPO),
            env=env,
            start_new_session=True,
        )
        self.ready = False
        self.tasks_done = 0
        self.rss = 0
        _send(self.proc.stdin, (tasks, limits))  # type: ignore[arg-type]

    def run(self, request: tuple[str, tuple, int], seconds: float) -> tuple[str, Any]:
        """Send one task and wait for its answer; raises TimeoutError or EOFError."""
        if not self.ready:
            _receive(self.proc.stdout, time.monotonic() + START_SECONDS)  # type: ignore[arg-type]
            self.ready = True
        _send(self.proc.stdin, request)  # type: ignore[arg-type]
        status, value, self.rss = _receive(self.proc.stdout, time.monotonic() + seconds)  # type: ignore[arg-type]
        self.tasks_done += 1
        return status, value

    def stop(self) -> None:
        """Kill the worker's process group and reap it."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]

    def stderr_tail(self) -> str:
        """The last lines the worker wrote to stderr (for an unexpected exit)."""
        with contextlib.suppress(OSError):
            self.stderr.seek(0, 2)
            self.stderr.seek(max(0, self.stderr.tell() - 300))
            return self.stderr.read().decode(errors="replace").strip()
        return ""


class Pool:
    """Warm workers for one task table and one set of limits; safe to call from many threads."""

    def __init__(self, tasks: dict[str, tuple[str, str]] | None = None, limits: Limits | None = None) -> None:
        self.tasks = dict(tasks or TASKS)
        self.limits = limits or Limits()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()

    def warm(self) -> None:
        """Start a worker in the background if none is waiting, so the next task finds one ready."""
        with self._cond:
            if not self._idle and self._busy < MAX_WORKERS:
                self._idle.append(_Worker(self.tasks, self.limits))

    def call(self, task: str, *args: Any, seconds: float | None = None) -> Any:
        """Run tasks[task](*args) in a worker; its return value or its exception, or LimitExceeded.

        `seconds` gives this task more (or less) wall-clock time than the pool's limit, for a big file;
        its processor-time allowance grows with it.
        """
        if task not in self.tasks:
            raise ValueError(f"unknown task {task!r}")
        seconds = seconds or self.limits.seconds
        cpu = max(self.limits.cpu_seconds, int(2 * seconds))
        worker = self._take()
        keep = False
        try:
            status, value = worker.run((task, args, cpu), seconds)
            keep = status in ("ok", "raise")
        except TimeoutError:
            raise LimitExceeded(f"reading it took longer than {seconds:g} seconds, the limit") from None
        except (EOFError, OSError, pickle.UnpicklingError, ValueError, AttributeError, ImportError):
            raise self._died(worker, cpu) from None
        finally:
            self._give_back(worker, keep)
        if status == "ok":
            return value
        if status == "raise":
            raise value
        if status == "memory":
            raise LimitExceeded(
                f"reading it needs more than {self.limits.memory_bytes / GB:.1f} GB of memory, the limit"
            )
        if status == "recursion":
            raise LimitExceeded("it is nested too deeply to read")
        raise LimitExceeded(f"the reader failed ({value})")

    def _died(self, worker: _Worker, cpu: int) -> LimitExceeded:
        """The message for a worker that stopped answering mid-task."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.proc.wait(timeout=5)
        code = worker.proc.returncode
        if code == -signal.SIGXCPU:
            return LimitExceeded(f"reading it needed more than {cpu} seconds of processor time")
        if code == -signal.SIGKILL:
            return LimitExceeded("reading it needed more memory than the limit")
        tail = worker.stderr_tail().splitlines()
        detail = f": {tail[-1][:200]}" if tail else ""
        return LimitExceeded(f"the reader stopped unexpectedly (exit status {code}){detail}")

    def _take(self) -> _Worker:
        with self._cond:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.proc.poll() is None:
                        self._busy += 1
                        return worker
                    worker.stop()
                if self._busy < MAX_WORKERS:
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            return _Worker(self.tasks, self.limits)
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: _Worker, keep: bool) -> None:
        healthy = keep and worker.rss < RETIRE_RSS and worker.tasks_done < RETIRE_TASKS
        with self._cond:
            self._busy -= 1
            if healthy and len(self._idle) < KEEP_IDLE:
                self._idle.append(worker)
                worker = None  # type: ignore[assignment]
            self._cond.notify()
        if worker is not None:
            worker.stop()

    def worker_pids(self) -> list[int]:
        """Process ids of the idle workers (for measuring them)."""
        with self._cond:
            return [w.proc.pid for w in self._idle]

    def close(self) -> None:
        """Stop the idle workers."""
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    """The process's shared pool, with the default limits."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool(TASKS, Limits())
        return _pool


def call(task: str, *args: Any, seconds: float | None = None) -> Any:
    """Run TASKS[task](*args) in a warm limited worker; its return value or its exception, or LimitExceeded."""
    return pool().call(task, *args, seconds=seconds)


def warm() -> None:
    """Have a worker with the default limits ready for the next file."""
    pool().warm()


@atexit.register
def _close() -> None:
    if _pool is not None:
        _pool.close()


# --- wire: 8-byte length, then a pickle ----------------------------------------------------------


def _send(pipe: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message)
    pipe.write(_HEADER.pack(len(payload)) + payload)
    pipe.flush()


def _receive(pipe: IO[bytes], deadline: float | None) -> Any:
    """One message, or TimeoutError at the deadline (None: wait for ever), or EOFError if the other side has gone."""
    header = _read_exact(pipe.fileno(), _HEADER.size, deadline)
    return pickle.loads(_read_exact(pipe.fileno(), _HEADER.unpack(header)[0], deadline))


def _read_exact(fd: int, count: int, deadline: float | None) -> bytes:
    parts, got = [], 0
    while got < count:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
        block = os.read(fd, min(count - got, 1 << 20))
        if not block:
            raise EOFError
        parts.append(block)
        got += len(block)
    return b"".join(parts)


# --- worker side ------------------------------------------------------------------------------------


def _limit_memory(limits: Limits) -> None:
    import resource

    # RLIMIT_DATA counts memory that is written to (heap, anonymous mappings, thread stacks), not address
    # space merely reserved: Arrow's and DuckDB's allocators and glibc's per-thread arenas reserve
    # gigabytes they never touch, which a limit on address space (RLIMIT_AS) would count.
    resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _allow_cpu(seconds: int) -> None:
    """Let the next task use `seconds` more processor time than used so far (RLIMIT_CPU is cumulative)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = spent + seconds if hard == resource.RLIM_INFINITY else min(spent + seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _rss() -> int:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def main() -> None:
    """Worker side: read the task table and limits, load libraries, then answer one task at a time."""
    inbox = os.fdopen(os.dup(0), "rb")
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answers
    tasks, limits = _receive(inbox, None)
    _limit_memory(limits)
    for module in (*PRELOAD, *(m for m, _ in tasks.values())):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    _send(answer, "ready")
    while True:
        try:
            task, args, cpu = _receive(inbox, None)
        except EOFError:
            return  # the server has gone
        _allow_cpu(cpu)
        try:
            module, name = tasks[task]
            result: tuple[str, Any] = ("ok", getattr(importlib.import_module(module), name)(*args))
        except MemoryError:
            result = ("memory", None)
        except RecursionError:
            result = ("recursion", None)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller as a value
            result = ("raise", exc)
        try:
            _send(answer, (*result, _rss()))  # pickled whole before anything is written
        except Exception as exc:  # noqa: BLE001 - a result or exception that cannot be pickled
            _send(answer, ("crashed", f"{type(exc).__name__}: {exc}", _rss()))


if __name__ == "__main__":
    main()
