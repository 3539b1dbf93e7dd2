"""The warm worker pool: answers, limits, kills on timeout, fresh worker afterwards, no interleaving between threads."""

from __future__ import annotations

import threading
import time

import pytest

from lib.files.sandbox import MB, LimitExceeded, Limits, Pool
from tests.support.runs import wait_for

TASKS = {
    name: ("tests.support.sandbox_tasks", name)
    for name in ("pid", "sleep", "mark_and_sleep", "allocate", "spin", "fail", "crash")
}


@pytest.fixture
def pool():
    p = Pool(TASKS, Limits(seconds=3.0, memory_bytes=1024 * MB, cpu_seconds=2))
    yield p
    p.close()


def test_worker_is_reused_between_tasks(pool):
    first = pool.call("pid")
    assert pool.call("pid") == first
    assert pool.call("sleep", 0.01) == "slept"


def test_exception_comes_back_and_worker_stays(pool):
    first = pool.call("pid")
    with pytest.raises(ValueError, match="a clear reason"):
        pool.call("fail")
    assert pool.call("pid") == first


def test_unknown_task_is_refused(pool):
    with pytest.raises(ValueError, match="unknown task"):
        pool.call("os.system")


def test_timeout_kills_the_worker_and_the_next_task_gets_a_fresh_one(pool):
    first = pool.call("pid")
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="longer than 3 seconds"):
        pool.call("sleep", 30)
    assert time.monotonic() - started < 10
    assert pool.call("pid") != first


def test_memory_limit(pool):
    with pytest.raises(LimitExceeded, match="GB of memory"):
        pool.call("allocate", 2048)
    assert pool.call("allocate", 10) == 10 * MB


def test_cpu_limit_applies_to_each_task_not_the_worker_lifetime(pool):
    # Each task may use 2 s of processor time: three 1 s tasks in one worker are fine ...
    first = pool.call("pid")
    for _ in range(3):
        pool.call("spin", 1.0)
    assert pool.call("pid") == first
    # ... one task that spins longer is stopped.
    with pytest.raises(LimitExceeded, match="processor time|longer than"):
        pool.call("spin", 10.0)


def test_crash_is_a_clear_message(pool):
    with pytest.raises(LimitExceeded, match="stopped unexpectedly"):
        pool.call("crash")
    assert isinstance(pool.call("pid"), int)


def test_a_small_task_does_not_wait_behind_a_slow_one(pool, tmp_path):
    pool.warm()
    marker = tmp_path / "slow-started"
    outcome: list[object] = []  # what the slow call returned or raised; any other exception leaves it empty

    def slow_call() -> None:
        try:
            outcome.append(pool.call("mark_and_sleep", str(marker), 30))
        except LimitExceeded as exc:
            outcome.append(exc)

    slow = threading.Thread(target=slow_call)
    slow.start()
    wait_for(marker.exists, 10, "the slow task to start in its worker")
    started = time.monotonic()
    assert pool.call("sleep", 0.01) == "slept"
    waited = time.monotonic() - started
    slow.join()
    assert waited < 2.9, f"the small task waited {waited:.1f} s, as long as the slow one's timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], LimitExceeded), outcome
    assert "longer than 3 seconds" in str(outcome[0])


def test_concurrent_calls_get_their_own_answers(pool):
    results: dict[int, object] = {}

    def run(i: int) -> None:
        results[i] = pool.call("sleep", 0.05 * (i % 3))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: "slept" for i in range(8)}


def test_a_task_can_be_given_more_time_and_processor_time(pool):
    assert pool.call("sleep", 4, seconds=8) == "slept"  # over the pool's 3 s, within this task's 8 s
    assert pool.call("spin", 3.0, seconds=4) > 0  # 2 s of processor time by default, 8 s for this task
    with pytest.raises(LimitExceeded, match="longer than 1 seconds"):
        pool.call("sleep", 5, seconds=1)
