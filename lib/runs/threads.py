"""The turns this process streams in its own threads, and whether another process on this machine holds one.

With the embedded database this process is the worker: each turn it runs is a `Job` here, and its claims carry
`LOCAL_WORKER` (`local:<pid>`), so the app and the CLI beside it can tell each other's turns from abandoned ones.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from lib.turn.stop import StopSignal

LOCAL_WORKER = f"local:{os.getpid()}"


@dataclass
class Job:
    """A turn being worked on in a background thread."""

    run_id: str
    stop: StopSignal = field(default_factory=StopSignal)
    thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        """Whether its thread is still running."""
        return bool(self.thread and self.thread.is_alive())


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()


def register(job: Job) -> None:
    """Keep a job as the run's current one (replacing the run's previous job)."""
    with _jobs_lock:
        _jobs[job.run_id] = job


def job_of(run_id: str) -> Job | None:
    """The run's current job in this process, running or finished, if any."""
    with _jobs_lock:
        return _jobs.get(run_id)


def active_ids() -> set[str]:
    """Runs a thread of this process is working on."""
    with _jobs_lock:
        return {run_id for run_id, job in _jobs.items() if job.alive}


def held_elsewhere(worker: str) -> bool:
    """Whether a turn claimed by `worker` (embedded: `local:<pid>`) is held by another process still alive."""
    kind, _, pid = worker.partition(":")
    if kind != "local" or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user
        return True
    return True
