"""Background runs: turns are queued in the store and streamed by a worker that writes every change to it.

With the embedded SQLite default this process is the worker (a thread per turn); with a shared database,
`python -m lib.worker` processes claim queued turns and pages only enqueue, watch and request stops.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lib.client import make_client
from lib.cost import budget_reached, budget_used_sentence
from lib.errors import AppError, describe
from lib.runs import replay
from lib.runs.budget import check_user_budget
from lib.runs.view import run_cost
from lib.settings import Settings
from lib.storage import blobs
from lib.storage.store import ACTIVE, Claim, Run, Store
from lib.transcript import GeneratedFile, Item, Notice, RunError
from lib.turn.download import fetch_file
from lib.turn.events import ContainerEvent, FileSaved, ItemEvent, NoticeEvent, Outcome, TurnEvent, UsageEvent
from lib.turn.request import TurnRequest, attached_ids, files_note, history_messages, user_content
from lib.turn.stop import StopSignal
from lib.turn.stream import Turn

WRITE_INTERVAL = 0.1


@dataclass
class Job:
    """A turn being worked on in a background thread."""

    run_id: str
    stop: StopSignal = field(default_factory=StopSignal)
    thread: threading.Thread | None = None


_jobs: dict[str, Job] = {}
_jobs_lock = threading.Lock()
_recovered: set[str] = set()


class RunBusyError(AppError):
    """A turn of this run is still in progress."""

    def __init__(self) -> None:
        super().__init__(
            "Still working",
            "This run is still answering the previous question.",
            "Wait for it to finish, or press Stop.",
            code="busy",
        )


class BudgetReachedError(AppError):
    """The run has used its budget."""

    def __init__(self, spent_usd: float, budget_usd: float) -> None:
        super().__init__(
            "Budget reached",
            budget_used_sentence(spent_usd, budget_usd) + ", so the question was not sent.",
            "Raise the run's budget (the Budget button below the answer) and ask again.",
            code="budget",
        )


LEASE_SECONDS = 10.0  # a worker that has not renewed its lease for this long is taken for dead
LOCAL_WORKER = f"local:{os.getpid()}"


def is_active(run_id: str, store: Store | None = None) -> bool:
    """Whether the run's current turn is being worked on: by a thread of this process; given the embedded
    database, by another live process on this machine (the app beside the CLI); given a shared one, queued or
    held under a live lease by a worker anywhere."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    if job and job.thread and job.thread.is_alive():
        return True
    if store is None:
        return False
    state = store.turn_state(run_id)
    if state is None:
        return False
    if store.embedded:
        return state.status in ACTIVE and held_elsewhere(state.worker)
    return state.status == "queued" or (state.status == "running" and state.lease_until >= time.time())


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


def active_ids() -> set[str]:
    """Runs a thread of this process is working on."""
    with _jobs_lock:
        return {run_id for run_id, job in _jobs.items() if job.thread and job.thread.is_alive()}


def recover(store: Store) -> list[str]:
    """Once per process and database: runs nobody works on any more become 'interrupted' (embedded: every
    active run neither a thread of this process nor another live process holds; shared: those whose worker's
    lease ran out)."""
    key = store.location
    with _jobs_lock:
        if key in _recovered:
            return []
        _recovered.add(key)
    return settle(store)


def settle(store: Store, only: set[str] | None = None) -> list[str]:
    """Active runs (or `only` these) that nobody works on become 'interrupted'; returns their ids."""
    if store.embedded:
        scoped = store.as_owner(store.owner, store.admin or only is None)
        elsewhere = {run_id for run_id, worker in scoped.active_turn_workers().items() if held_elsewhere(worker)}
        return scoped.mark_interrupted(keep=active_ids() | elsewhere, only=only)
    return store.reap_expired(only)


def new_run(
    store: Store, settings: Settings, question: str, file_ids: list[str], title: str = "", replay_of: str = ""
) -> Run:
    """Create a run of the store's owner for a first question and start working on it."""
    user_budget = check_user_budget(store, store.owner, settings.prices)
    if user_budget is not None:  # before the run exists, so a refused question leaves no empty run behind
        raise user_budget
    foreign = [f for f in file_ids if store.file(f) is None]
    if foreign:  # file ids go to the API as they are: only the owner's own library may be attached
        raise AppError(
            "File not in your library",
            f"{len(foreign)} of the chosen files are not in your library: {', '.join(foreign)}.",
            "Choose files from the Files page.",
            code="not_yours",
        )
    run = store.create_run(
        title or (question.strip().splitlines()[0] if question.strip() else "Analysis"),
        settings.model,
        settings.tool_version,
        file_ids,
        demo=settings.demo,
        budget_usd=settings.run_budget_usd,
        replay_of=replay_of,
    )
    start_turn(store, settings, run.id, question)
    return run


def start_replay(store: Store, settings: Settings, original_id: str, choice: dict[str, str]) -> Run:
    """A new run of the store's owner that asks a finished run's questions again, in order, with the library
    files in `choice` (original file id → stand-in id) in place of the original's; same model, tool and budget."""
    original, found, asked = replay.plan(store, original_id, choice)
    names = {s.original_name: s.replacement.filename for s in found if s.replacement}
    like_original = dataclasses.replace(
        settings, model=original.model, tool_version=original.tool_version, run_budget_usd=original.budget_usd
    )
    return new_run(
        store,
        like_original,
        replay.renamed(asked[0], names),
        [s.replacement.id for s in found if s.replacement],
        title=replay.title_for(original),
        replay_of=original.id,
    )


def continue_replay(store: Store, settings: Settings, run_id: str) -> int | None:
    """Ask a replay's next question (after it stopped half way); returns the turn's index, or None if none is left."""
    run = store.run(run_id)
    question = replay.next_question(store, run) if run is not None else None
    if question is None:
        return None
    return start_turn(store, settings, run_id, question)


def start_turn(store: Store, settings: Settings, run_id: str, question: str) -> int:
    """Add a turn to one of the store owner's runs and start streaming it in the background; returns its index."""
    if is_active(run_id, store):
        raise RunBusyError()
    idx = queue_turn(store, settings, run_id, question)
    if store.embedded:  # the single-process default: this process is the worker
        claim = store.as_owner(store.owner, admin=True).claim_turn(LOCAL_WORKER, LEASE_SECONDS, only=(run_id, idx))
        if claim is not None:
            start_local(store, settings, claim)
    return idx


def queue_turn(store: Store, settings: Settings, run_id: str, question: str) -> int:
    """Add a turn to one of the store owner's runs, queued with everything a worker needs; returns its index."""
    run = store.run(run_id)
    if run is None:
        raise KeyError(run_id)
    user_budget = check_user_budget(store, store.owner, settings.prices)
    if user_budget is not None:
        raise user_budget
    turns = store.turns(run_id)
    spent = run_cost(turns, run.model, settings.prices).total_usd
    if budget_reached(run.budget_usd, spent):
        raise BudgetReachedError(spent, run.budget_usd)
    history = history_messages([(t.user_content, t.assistant_content) for t in turns])
    # without a known container the next request starts a new one, so every file of the run goes along again
    already = attached_ids(history) if run.container_id else set()
    pending = [f for f in run.file_ids if f not in already]
    note = files_note([r for r in (store.file(f) for f in pending) if r is not None])
    user = user_content(question, pending, note)
    req = TurnRequest(
        model=run.model,
        tool_version=run.tool_version,
        max_tokens=settings.max_tokens,
        history=history,
        user_content=user,
        container_id=run.container_id,
        run_file_ids=run.file_ids,
        max_continuations=settings.max_continuations,
        budget_usd=run.budget_usd,
        spent_usd=spent,
        prices=settings.prices,
    )
    return store.start_turn(run_id, question, user, request=request_dict(req))


def request_dict(req: TurnRequest) -> dict[str, Any]:
    """A turn's request as JSON-ready values, for the queue: without its history, which the run's earlier turns
    already hold (kept in every turn, a run's requests would grow with the square of its length), nor its
    prices (the worker's own)."""
    values = dataclasses.asdict(req)
    values.pop("history")
    values.pop("prices")
    return values


def request_from(values: dict[str, Any], settings: Settings, history: list[dict[str, Any]]) -> TurnRequest:
    """The request a queued turn was saved with, after `history`, priced with `settings`."""
    known = {f.name for f in dataclasses.fields(TurnRequest)} - {"history", "prices"}
    values = {k: v for k, v in values.items() if k in known}
    return TurnRequest(**values, history=history, prices=settings.prices)


def history_before(store: Store, run_id: str, idx: int) -> list[dict[str, Any]]:
    """The conversation of a run's turns before turn `idx`, as messages."""
    turns = [t for t in store.turns(run_id) if t.idx < idx]
    return history_messages([(t.user_content, t.assistant_content) for t in turns])


def start_local(store: Store, settings: Settings, claim: Claim) -> Job:
    """Run a claimed turn in a thread of this process."""
    job = Job(run_id=claim.run_id)
    owned = store.as_owner(claim.owner, admin=False)
    job.thread = threading.Thread(
        target=execute,
        args=(owned, settings, claim, job.stop),
        daemon=True,
        name=f"run-{claim.run_id[:8]}",
    )
    with _jobs_lock:
        _jobs[claim.run_id] = job
    job.thread.start()
    return job


def stop(run_id: str, store: Store | None = None) -> bool:
    """Stop the run's current turn: at once when a thread of this process runs it; given a shared database,
    by recording the request, which the worker running it sees within a second. Returns whether one was active."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    local = bool(job and job.thread and job.thread.is_alive())
    recorded = store.request_stop(run_id) if store is not None else False
    if local:
        job.stop.stop()
    return local or recorded


def wait(run_id: str, timeout: float = 30.0, store: Store | None = None) -> bool:
    """Block until the run's current turn ends (for tests and scripts); returns whether it did."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    if job and job.thread:
        job.thread.join(timeout)
        return not job.thread.is_alive()
    if store is None:
        return True
    deadline = time.monotonic() + timeout
    while is_active(run_id, store):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class ItemWriter:
    """Writes a turn's items to the store, holding back partial updates that come faster than WRITE_INTERVAL."""

    def __init__(self, store: Store, run_id: str, turn_idx: int) -> None:
        self.store, self.run_id, self.turn_idx = store, run_id, turn_idx
        self.pending: dict[int, Item] = {}
        self.last_write: dict[int, float] = {}

    def put(self, seq: int, item: Item, final: bool) -> None:
        """Write an item now if it is final, new, or last written long enough ago; otherwise hold it."""
        now = time.monotonic()
        if not final and now - self.last_write.get(seq, 0.0) < WRITE_INTERVAL:
            self.pending[seq] = item
            return
        self.pending.pop(seq, None)
        self.last_write[seq] = now
        self.store.put_item(self.run_id, self.turn_idx, seq, item)

    def flush(self) -> None:
        """Write the latest state of items whose last update was held back."""
        pending, self.pending = self.pending, {}
        for seq, item in pending.items():
            self.store.put_item(self.run_id, self.turn_idx, seq, item)


def record(store: Store, run_id: str, idx: int, events: Iterator[TurnEvent]) -> Outcome:
    """Write every event of a turn to the store as it arrives, the outcome's content too; returns the outcome,
    whose status the caller writes (after queueing what follows, so the run never looks idle in between)."""
    writer = ItemWriter(store, run_id, idx)
    for event in events:
        if isinstance(event, ItemEvent):
            writer.put(event.seq, event.item, event.final)
        elif isinstance(event, NoticeEvent):
            writer.put(event.seq, event.notice, True)
        elif isinstance(event, FileSaved):
            writer.put(event.seq, event.file, True)
            _keep_artifact(store, run_id, idx, event.file)
        elif isinstance(event, UsageEvent):
            store.update_turn(run_id, idx, usage=event.usage)
        elif isinstance(event, ContainerEvent):
            store.update_run(run_id, container_id=event.container_id, container_expires_at=event.expires_at)
        elif isinstance(event, Outcome):
            writer.flush()
            store.update_turn(
                run_id,
                idx,
                finished_at=time.time(),
                assistant_content=event.content,
                usage=event.usage,
                stop_reason=event.stop_reason,
                container_id=event.container_id,
                requests=event.requests,
                error=str(event.error) if event.error else "",
                user_content=event.user_content,
            )
            return event
    raise AssertionError("a turn always ends with an outcome")


def _keep_artifact(store: Store, run_id: str, idx: int, saved: GeneratedFile) -> None:
    if saved.path:
        blobs.keep(store.data_dir, saved.path)
        store.add_artifact(
            run_id, idx, saved.file_id, saved.filename, saved.mime_type, saved.size_bytes, saved.path, saved.tool_use_id
        )


def retry_file(store: Store, settings: Settings, run_id: str, file_id: str) -> GeneratedFile:
    """Fetch again a generated file whose download failed; its transcript item and the gallery are updated."""
    found = next(
        (s for s in store.items(run_id) if isinstance(s.item, GeneratedFile) and s.item.file_id == file_id), None
    )
    if found is None:
        raise AppError("File not in this run", f"The run has no generated file `{file_id}`.", "Reload the page.")
    artifacts = settings.data_dir / "artifacts" / run_id
    fresh = fetch_file(make_client(settings), file_id, found.item.tool_use_id, artifacts, settings.data_dir)
    store.put_item(run_id, found.turn_idx, found.seq, fresh)
    _keep_artifact(store, run_id, found.turn_idx, fresh)
    return fresh


def execute(store: Store, settings: Settings, claim: Claim | None, stop_signal: StopSignal) -> None:
    """Run a claimed turn to its end, writing every event to the store (scoped to the run's owner), then a
    replay's next question: here with the embedded database, queued for any worker with a shared one. Never
    raises, always leaves the run in a final state or its next turn queued."""
    while claim is not None:
        outcome = _execute_turn(store, settings, claim, stop_signal)
        claim = _follow_up(store, settings, claim, outcome, stop_signal)


def _execute_turn(store: Store, settings: Settings, claim: Claim, stop_signal: StopSignal) -> Outcome | None:
    """One claimed turn, its outcome written; None when it failed outside the turn (also written)."""
    run_id, idx = claim.run_id, claim.idx
    try:
        turn = Turn(
            make_client(settings),
            request_from(claim.request, settings, history_before(store, run_id, idx)),
            settings.data_dir,
            settings.data_dir / "artifacts" / run_id,
            stop_signal,
            guard=lambda: check_user_budget(store, store.owner, settings.prices),
        )
        return record(store, run_id, idx, turn.events())
    except BaseException as exc:  # noqa: BLE001 - the thread must leave a readable state whatever happened
        err = describe(exc)
        seq = store.next_seq(run_id, idx)
        store.put_item(
            run_id, idx, seq, RunError(title=err.title, message=err.message, hint=err.hint, retryable=err.retryable)
        )
        store.update_turn(run_id, idx, status="error", finished_at=time.time(), error=str(err))
        store.update_run(run_id, status="error", error=str(err))
        return None


def _follow_up(
    store: Store, settings: Settings, claim: Claim, outcome: Outcome | None, stop_signal: StopSignal
) -> Claim | None:
    """Settle a turn and its run, or for a replay queue the next question first and then settle the turn (so a
    watching page or `is_active` never sees the run idle in between); returns the next claim when this thread
    is to run it."""
    run = store.run(claim.run_id)
    if outcome is None or run is None:  # failed outside the turn (already settled), or deleted meanwhile
        return None
    run_id, idx = run.id, claim.idx
    status = {"done": "done", "stopped": "stopped", "failed": "error"}[outcome.status]
    question = None
    if status == "done" and not stop_signal.is_set():
        question = replay.next_question(store, run)
    queued = None
    if question is not None:
        try:
            queued = queue_turn(store, settings, run_id, question)
        except AppError as err:  # a budget reached half way: the replay waits, its answers so far are kept
            store.put_item(
                run_id, idx, store.next_seq(run_id, idx), Notice(text=f"The replay paused: {err.message} {err.hint}")
            )
    store.update_turn(run_id, idx, status=status)
    if queued is None:
        store.update_run(run_id, status=status, error=str(outcome.error) if outcome.error else "")
        return None
    if not store.embedded:
        return None  # any worker claims it
    return store.as_owner(store.owner, admin=True).claim_turn(LOCAL_WORKER, LEASE_SECONDS, (run_id, queued))
