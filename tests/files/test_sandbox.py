"""The warm worker pool: answers, limits, kills on timeout, fresh worker afterwards, no interleaving between threads."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest

from lib.files.sandbox import LimitExceeded, Pool
from lib.limits import LIMITS, MIB
from tests.support import sandbox_tasks as tasks
from tests.support.runs import wait_for

TASKS = (
    tasks.pid, tasks.sleep, tasks.mark_and_sleep, tasks.allocate, tasks.spin, tasks.fail, tasks.crash,
    tasks.environment, tasks.count_to,
)  # fmt: skip


@pytest.fixture
def pool():
    p = Pool(TASKS, replace(LIMITS, sandbox_seconds=3.0, sandbox_memory_bytes=1024 * MIB, sandbox_cpu_seconds=2))
    yield p
    p.close()


def test_worker_is_reused_between_tasks(pool):
    first = pool.call(tasks.pid)
    assert pool.call(tasks.pid) == first
    assert pool.call(tasks.sleep, 0.01) == "slept"


def test_exception_comes_back_and_worker_stays(pool):
    first = pool.call(tasks.pid)
    with pytest.raises(ValueError, match="a clear reason"):
        pool.call(tasks.fail)
    assert pool.call(tasks.pid) == first


def test_only_marked_tasks_of_the_pool_are_run(pool):
    with pytest.raises(ValueError, match="not a task of this sandbox"):
        pool.call(os.system, "true")
    with pytest.raises(ValueError, match="not a task of this sandbox"):
        pool.call(tasks.unmarked)
    with pytest.raises(ValueError, match="not marked as a sandbox task"):
        Pool([tasks.unmarked])


def test_workers_start_without_the_servers_secrets(pool, monkeypatch):
    secrets = {
        "ANTHROPIC_API_KEY": "sk-ant-secret",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "AWS_ACCESS_KEY_ID": "aws-id",
        "ANALYST_DATABASE_URL": "postgresql+psycopg://app:db-password@db/analyst",
        "ANALYST_BLOB_URL": "s3://bucket/prefix",
        "SOME_TOKEN": "token",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LANG", "C.UTF-8")
    env = pool.call(tasks.environment)
    assert not set(secrets) & set(env)
    assert not [v for v in env.values() if any(s in v for s in secrets.values())]
    # what Python and the libraries need is there
    assert env["PATH"] == os.environ["PATH"] and env["LANG"] == "C.UTF-8" and env["HOME"] == os.environ["HOME"]
    assert env["OMP_NUM_THREADS"] and env["PYTHONPATH"]


def test_timeout_kills_the_worker_and_the_next_task_gets_a_fresh_one(pool):
    first = pool.call(tasks.pid)
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="longer than 3 seconds"):
        pool.call(tasks.sleep, 30)
    assert time.monotonic() - started < 10
    assert pool.call(tasks.pid) != first


def test_memory_limit(pool):
    with pytest.raises(LimitExceeded, match="GB of memory"):
        pool.call(tasks.allocate, 2048)
    assert pool.call(tasks.allocate, 10) == 10 * MIB


def test_cpu_limit_applies_to_each_task_not_the_worker_lifetime(pool):
    # Each task may use 2 s of processor time: three 1 s tasks in one worker are fine ...
    first = pool.call(tasks.pid)
    for _ in range(3):
        pool.call(tasks.spin, 1.0)
    assert pool.call(tasks.pid) == first
    # ... one task that spins longer is stopped.
    with pytest.raises(LimitExceeded, match="processor time|longer than"):
        pool.call(tasks.spin, 10.0)


def test_a_task_tells_its_progress_to_the_caller_while_it_runs(pool):
    heard: list[tuple[int, int, float]] = []
    started = time.monotonic()
    assert (
        pool.call(tasks.count_to, 5, 0.1, on_progress=lambda d, t: heard.append((d, t, time.monotonic()))) == "counted"
    )
    assert [(d, t) for d, t, _ in heard] == [(n, 5) for n in range(1, 6)]
    assert heard[0][2] - started < heard[-1][2] - started, "heard while it ran, not all at the end"
    # progress faster than the pipe is told is thinned, but the last step always arrives
    fast: list[tuple[int, int]] = []
    pool.call(tasks.count_to, 200, 0.0, on_progress=lambda d, t: fast.append((d, t)))
    assert fast[-1] == (200, 200) and len(fast) < 200
    assert pool.call(tasks.pid) > 0, "the worker is reused after telling its progress"


def test_crash_is_a_clear_message(pool):
    with pytest.raises(LimitExceeded, match="stopped unexpectedly"):
        pool.call(tasks.crash)
    assert isinstance(pool.call(tasks.pid), int)


def test_a_small_task_does_not_wait_behind_a_slow_one(pool, tmp_path):
    pool.warm()
    marker = tmp_path / "slow-started"
    outcome: list[object] = []  # what the slow call returned or raised; any other exception leaves it empty

    def slow_call() -> None:
        try:
            outcome.append(pool.call(tasks.mark_and_sleep, str(marker), 30))
        except LimitExceeded as exc:
            outcome.append(exc)

    slow = threading.Thread(target=slow_call)
    slow.start()
    wait_for(marker.exists, 10, "the slow task to start in its worker")
    started = time.monotonic()
    assert pool.call(tasks.sleep, 0.01) == "slept"
    waited = time.monotonic() - started
    slow.join()
    assert waited < 2.9, f"the small task waited {waited:.1f} s, as long as the slow one's timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], LimitExceeded), outcome
    assert "longer than 3 seconds" in str(outcome[0])


def test_concurrent_calls_get_their_own_answers(pool):
    results: dict[int, object] = {}

    def run(i: int) -> None:
        results[i] = pool.call(tasks.sleep, 0.05 * (i % 3))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: "slept" for i in range(8)}


def test_a_task_can_be_given_more_time_and_processor_time(pool):
    assert pool.call(tasks.sleep, 4, seconds=8) == "slept"  # over the pool's 3 s, within this task's 8 s
    assert pool.call(tasks.spin, 3.0, seconds=20) > 0  # 2 s of processor time by default, 40 s for this task
    with pytest.raises(LimitExceeded, match="longer than 1 seconds"):
        pool.call(tasks.sleep, 5, seconds=1)
