"""Run parsers of untrusted files in warm, limited worker processes with a wall-clock timeout per task.

The Streamlit server is one process serving every user, so a zip bomb or a pathological file parsed there
would stall everyone. Parsing happens in long-lived workers (`python -m lib.files.sandbox`, fresh interpreters,
not forks of the server) that import the heavy libraries once, set their memory limit once and then take
one task at a time over a pipe. A task that runs past its time is killed with its worker, so it costs one
clear message and the next file gets a fresh worker. Each task also gets its own processor-time allowance
(the child raises its soft RLIMIT_CPU before every task). A worker is busy with one task at a time; when
every worker is busy another one is started, up to the limit, so one user's slow file never queues
another user's small one.

Only functions marked `@task` can be called: the caller passes the function itself (pickled by reference, so
the worker imports its module), which keeps the dependency visible in the caller's imports. Workers start
with a minimal environment (lib.child_env): no API key, no storage credentials. The bounds are in lib.limits.
A long task may tell how far it has got with `progress(done, total)`: the caller's `on_progress` hears it
while it waits for the answer, within the same time limit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

from lib import child_env
from lib.limits import GIB, LIMITS, Limits

REPO = Path(__file__).resolve().parents[2]
# Every function a worker may run, by "module:qualified name"; filled by @task as modules are imported.
TASKS: dict[str, Callable[..., Any]] = {}
# Imported by a worker of the default pool before it says it is ready, so no task pays for them.
PRELOAD = ("pandas", "pyarrow", "pyarrow.csv", "pyarrow.compute", "duckdb", "PIL.Image")
KEEP_IDLE = 1  # warm workers kept waiting between tasks
PROGRESS_EVERY = 0.05  # seconds between two progress messages of a task
_HEADER = struct.Struct(">Q")
F = TypeVar("F", bound=Callable[..., Any])
Progress = Callable[[int, int], None]


def task(fn: F) -> F:
    """Mark a module-level function as one a sandbox worker may run (on arguments and a result that pickle)."""
    TASKS[task_name(fn)] = fn
    return fn


def task_name(fn: Callable[..., Any]) -> str:
    """How the task table names a function."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', '?')}"


def is_task(fn: Any) -> bool:
    """Whether `fn` is a function marked @task (the very object, not one of the same name)."""
    return callable(fn) and TASKS.get(task_name(fn)) is fn


class LimitExceeded(Exception):
    """The task went over a limit or the worker died; the message says which, in plain words."""


class _Worker:
    """One child process and its pipes; used by one task at a time."""

    def __init__(self, tasks: list[Callable[..., Any]], limits: Limits, preload: tuple[str, ...]) -> None:
        # Arrow allocates from the C library's heap, which a worker trims after each task (`_release_memory`).
        env = child_env.minimal(
            {"PYTHONPATH": str(REPO), "MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system"}
        )
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
        self.start_seconds = limits.sandbox_start_seconds
        _send(self.proc.stdin, preload)  # type: ignore[arg-type]
        _send(self.proc.stdin, (tasks, limits))  # type: ignore[arg-type]

    def run(
        self, request: tuple[Callable[..., Any], tuple, int], seconds: float, on_progress: Progress | None = None
    ) -> tuple[str, Any, int]:
        """Send one task and wait for its answer and the answer's size in bytes, passing its progress messages to
        `on_progress` meanwhile; raises TimeoutError or EOFError."""
        if not self.ready:
            _receive(self.proc.stdout, time.monotonic() + self.start_seconds)  # type: ignore[arg-type]
            self.ready = True
        _send(self.proc.stdin, request)  # type: ignore[arg-type]
        deadline = time.monotonic() + seconds
        while True:
            answer, size = _receive_sized(self.proc.stdout, deadline)  # type: ignore[arg-type]
            status, value, self.rss = answer
            if status != "progress":
                break
            if on_progress is not None:
                on_progress(*value)
        self.tasks_done += 1
        return status, value, size

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
    """Warm workers for a set of tasks and one table of limits; safe to call from many threads."""

    def __init__(
        self,
        tasks: Iterable[Callable[..., Any]] | None = None,
        limits: Limits | None = None,
        preload: tuple[str, ...] = PRELOAD,
    ) -> None:
        """`tasks`: the functions this pool runs (each marked @task); None: every function marked @task.
        `preload`: the modules a worker imports before it is ready (a pool of light tasks loads less)."""
        self.tasks = None if tasks is None else tuple(tasks)
        for fn in self.tasks or ():
            if not is_task(fn):
                raise ValueError(f"{task_name(fn)} is not marked as a sandbox task")
        self.limits = limits or LIMITS
        self.preload = preload
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()

    def _allows(self, fn: Callable[..., Any]) -> bool:
        return is_task(fn) and (self.tasks is None or any(fn is t for t in self.tasks))

    def _new_worker(self) -> _Worker:
        return _Worker(list(TASKS.values() if self.tasks is None else self.tasks), self.limits, self.preload)

    def warm(self) -> None:
        """Start a worker in the background if none is waiting, so the next task finds one ready."""
        with self._cond:
            if not self._idle and self._busy < self.limits.sandbox_workers:
                self._idle.append(self._new_worker())

    def call(
        self, fn: Callable[..., Any], *args: Any, seconds: float | None = None, on_progress: Progress | None = None
    ) -> Any:
        """Run fn(*args) in a worker; its return value or its exception, or LimitExceeded.

        `seconds` gives this task more (or less) wall-clock time than the pool's limit, for a big file;
        its processor-time allowance grows with it. `on_progress(done, total)` hears the task's `progress` calls.
        """
        return self.call_sized(fn, *args, seconds=seconds, on_progress=on_progress)[0]

    def call_sized(
        self, fn: Callable[..., Any], *args: Any, seconds: float | None = None, on_progress: Progress | None = None
    ) -> tuple[Any, int]:
        """As `call`, with the size in bytes of the answer as it crossed the pipe (what keeping it costs)."""
        if not self._allows(fn):
            raise ValueError(f"not a task of this sandbox: {task_name(fn)}")
        seconds = seconds or self.limits.sandbox_seconds
        cpu = max(self.limits.sandbox_cpu_seconds, int(2 * seconds))
        worker = self._take()
        keep = False
        try:
            status, value, size = worker.run((fn, args, cpu), seconds, on_progress)
            keep = status in ("ok", "raise")
        except TimeoutError:
            raise LimitExceeded(f"reading it took longer than {seconds:g} seconds, the limit") from None
        except (EOFError, OSError, pickle.UnpicklingError, ValueError, AttributeError, ImportError):
            raise self._died(worker, cpu) from None
        finally:
            self._give_back(worker, keep)
        if status == "ok":
            return value, size
        if status == "raise":
            raise value
        if status == "memory":
            raise LimitExceeded(
                f"reading it needs more than {self.limits.sandbox_memory_bytes / GIB:.1f} GB of memory, the limit"
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
                if self._busy < self.limits.sandbox_workers:
                    self._busy += 1
                    break
                self._cond.wait()
        try:
            return self._new_worker()
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: _Worker, keep: bool) -> None:
        healthy = (
            keep
            and worker.rss < self.limits.sandbox_retire_rss_bytes
            and worker.tasks_done < self.limits.sandbox_retire_tasks
        )
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


_pools: dict[str, Pool] = {}
_pool_lock = threading.Lock()


def pool(name: str = "", tasks: Iterable[Callable[..., Any]] | None = None, preload: tuple[str, ...] = PRELOAD) -> Pool:
    """The process's shared pool of that name, made with `tasks` and `preload` on first use; the default one
    runs every @task with the heavy libraries loaded. Every pool has the limits of lib.limits."""
    with _pool_lock:
        if name not in _pools:
            _pools[name] = Pool(tasks, preload=preload)
        return _pools[name]


def call(fn: Callable[..., Any], *args: Any, seconds: float | None = None, on_progress: Progress | None = None) -> Any:
    """Run fn(*args) (a function marked @task) in a warm limited worker; its return value or its exception,
    or LimitExceeded. `on_progress(done, total)` hears the task's `progress` calls while it runs."""
    return pool().call(fn, *args, seconds=seconds, on_progress=on_progress)


def warm() -> None:
    """Have a worker with the default limits ready for the next file."""
    pool().warm()


@atexit.register
def _close() -> None:
    for each in list(_pools.values()):
        each.close()


# --- wire: 8-byte length, then a pickle ----------------------------------------------------------


_send_lock = threading.Lock()  # a task's progress may be told from another of its threads


def _send(pipe: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message)
    with _send_lock:
        pipe.write(_HEADER.pack(len(payload)) + payload)
        pipe.flush()


def _receive(pipe: IO[bytes], deadline: float | None) -> Any:
    """One message, or TimeoutError at the deadline (None: wait for ever), or EOFError if the other side has gone."""
    return _receive_sized(pipe, deadline)[0]


def _receive_sized(pipe: IO[bytes], deadline: float | None) -> tuple[Any, int]:
    """One message and its size in bytes (as `_receive`)."""
    header = _read_exact(pipe.fileno(), _HEADER.size, deadline)
    size = _HEADER.unpack(header)[0]
    return pickle.loads(_read_exact(pipe.fileno(), size, deadline)), size


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

_answers: IO[bytes] | None = None  # the pipe to the server, in a worker
_told = 0.0  # when the running task last told its progress


def progress(done: int, total: int) -> None:
    """Tell the caller of the running task how far it has got (at most every PROGRESS_EVERY seconds; the last
    step, done == total, always). Outside a worker it does nothing."""
    global _told
    now = time.monotonic()
    if _answers is None or (now - _told < PROGRESS_EVERY and done < total):
        return
    _told = now
    _send(_answers, ("progress", (int(done), int(total)), _rss()))


def _limit_memory(limits: Limits) -> None:
    import resource

    # RLIMIT_DATA counts memory that is written to (heap, anonymous mappings, thread stacks), not address
    # space merely reserved: Arrow's and DuckDB's allocators and glibc's per-thread arenas reserve
    # gigabytes they never touch, which a limit on address space (RLIMIT_AS) would count.
    memory = limits.sandbox_memory_bytes
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _allow_cpu(seconds: int) -> None:
    """Let the next task use `seconds` more processor time than used so far (RLIMIT_CPU is cumulative)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = spent + seconds if hard == resource.RLIM_INFINITY else min(spent + seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _release_memory() -> None:
    """Hand the memory a task freed back to the system, so a waiting worker holds little more than its libraries."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        with contextlib.suppress(Exception):
            arrow.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)  # glibc; elsewhere there is nothing to trim


def _rss() -> int:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def main() -> None:
    """Worker side: read the task table and limits, load libraries, then answer one task at a time."""
    global _answers, _told
    inbox = os.fdopen(os.dup(0), "rb")
    answer = _answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the answers
    for module in _receive(inbox, None):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    _tasks, limits = _receive(inbox, None)  # unpickling the task table imports the tasks' modules
    _limit_memory(limits)
    _send(answer, "ready")
    while True:
        try:
            header = _read_exact(inbox.fileno(), _HEADER.size, None)
            message = _read_exact(inbox.fileno(), _HEADER.unpack(header)[0], None)
        except EOFError:
            return  # the server has gone
        try:
            fn, args, cpu = pickle.loads(message)
            _allow_cpu(cpu)
            _told = 0.0
            if not is_task(fn):
                raise ValueError(f"not a sandbox task: {task_name(fn)}")
            result: tuple[str, Any] = ("ok", fn(*args))
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
        del result
        _release_memory()  # after the answer has gone, so the caller does not wait for it


if __name__ == "__main__":
    # run as the module lib.files.sandbox, so the tasks' @task marks fill the table is_task reads
    importlib.import_module("lib.files.sandbox").main()
