"""Functions the sandbox tests run in a worker: sleep, allocate, spin, report the process id or environment."""

from __future__ import annotations

import os
import time
from pathlib import Path

from lib.files.sandbox import progress, task


@task
def pid() -> int:
    return os.getpid()


@task
def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "slept"


@task
def mark_and_sleep(marker: str, seconds: float) -> str:
    """Write `marker` (the test's sign that this task has started), then sleep."""
    Path(marker).write_text(str(os.getpid()))
    return sleep(seconds)


@task
def allocate(megabytes: int) -> int:
    block = bytearray(megabytes << 20)
    return len(block)


@task
def spin(seconds: float) -> int:
    end, n = time.process_time() + seconds, 0
    while time.process_time() < end:
        n += 1
    return n


@task
def count_to(total: int, pause: float) -> str:
    """Tell the caller each step, `pause` seconds apart."""
    for done in range(1, total + 1):
        time.sleep(pause)
        progress(done, total)
    return "counted"


@task
def fail() -> None:
    raise ValueError("a clear reason")


@task
def crash() -> None:
    os._exit(3)


@task
def environment() -> dict[str, str]:
    return dict(os.environ)


def unmarked() -> str:
    return "ran"
