"""Running a claimed turn: the loop that streams it (and a replay's next question), and the recorder that
writes each of its events to the store as it arrives, so a page on any replica sees it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from lib.client import make_client
from lib.errors import AppError, NotAllowedError, describe
from lib.runs import data_sources, replay
from lib.runs.budget import check_user_budget
from lib.runs.enqueue import history_before, queue_turn, request_from
from lib.runs.threads import LOCAL_WORKER, Job, register
from lib.runs.traces import keep_trace
from lib.settings import Settings
from lib.storage import blobs
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import Claim
from lib.storage.store import Store
from lib.transcript import GeneratedFile, Item, Notice, RunError
from lib.turn.events import ContainerEvent, FileSaved, ItemEvent, NoticeEvent, Outcome, TurnEvent, UsageEvent
from lib.turn.stop import StopSignal
from lib.turn.stream import Turn

WRITE_INTERVAL = 0.2  # seconds between two writes of an item that is still growing
FIRST_WRITES = 2  # the first versions of an item written at once whatever the interval


def start_local(store: Store, settings: Settings, claim: Claim) -> Job:
    """Run a claimed turn in a thread of this process, as the run's owner: the claim must be the store owner's
    own, or the store an admin's (a worker's, which claims every owner's turns)."""
    if claim.owner != store.owner and not store.admin:
        raise NotAllowedError("Only a worker can run someone else's turn.")
    job = Job(run_id=claim.run_id)
    owned = store.as_owner(claim.owner, admin=False)
    job.thread = threading.Thread(
        target=execute_claim,
        args=(owned, settings, claim, job.stop),
        daemon=True,
        name=f"run-{claim.run_id[:8]}",
    )
    register(job)
    job.thread.start()
    return job


def execute_claim(store: Store, settings: Settings, claim: Claim | None, stop_signal: StopSignal) -> None:
    """Run a claimed turn to its end, writing every event to the store (scoped to the run's owner), then a
    replay's next question: here with the embedded database, queued for any worker with a shared one. Once
    started it never raises, and always leaves the run in a final state or its next turn queued; a claim of
    another owner than the store's is refused before anything is sent."""
    if claim is not None and claim.owner != store.owner:
        raise NotAllowedError("A turn runs only with its owner's view of the store.")
    while claim is not None:
        outcome = _execute_turn(store, settings, claim, stop_signal)
        claim = _follow_up(store, settings, claim, outcome, stop_signal)


class ItemWriter:
    """Writes a turn's items to the store in batches: a new or final item at once, together with every update held
    back; partial updates of an item that come faster than WRITE_INTERVAL are held. Each batch is one statement and
    one signal to the run's watchers."""

    def __init__(self, store: Store, run_id: str, turn_idx: int) -> None:
        self.store, self.run_id, self.turn_idx = store, run_id, turn_idx
        self.pending: dict[int, Item] = {}
        self.last_write: dict[int, float] = {}
        self.writes: dict[int, int] = {}

    def put(self, seq: int, item: Item, final: bool) -> None:
        """Write an item now, with whatever is held, if it is final, new (its first two versions: a block starts
        empty, and the next one holds its first words), or last written long enough ago; otherwise hold it."""
        now = time.monotonic()
        self.pending[seq] = item
        fresh = self.writes.get(seq, 0) < FIRST_WRITES
        if final or fresh or now - self.last_write[seq] >= WRITE_INTERVAL:
            self.flush()

    def flush(self) -> None:
        """Write every item held back, in one batch."""
        batch, self.pending = self.pending, {}
        now = time.monotonic()
        for seq in batch:
            self.last_write[seq] = now
            self.writes[seq] = self.writes.get(seq, 0) + 1
        self.store.put_items(self.run_id, self.turn_idx, batch)


def record(store: Store, run_id: str, idx: int, events: Iterator[TurnEvent]) -> Outcome:
    """Write every event of a turn to the store as it arrives, the outcome's content too; returns the outcome,
    whose status the caller writes (after queueing what follows, so the run never looks idle in between). The run
    must be the store owner's."""
    store.own_run(run_id)
    writer = ItemWriter(store, run_id, idx)
    for event in events:
        if isinstance(event, ItemEvent):
            writer.put(event.seq, event.item, event.final)
        elif isinstance(event, NoticeEvent):
            writer.put(event.seq, event.notice, True)
        elif isinstance(event, FileSaved):
            writer.put(event.seq, event.file, True)
            keep_artifact(store, run_id, idx, event.file)
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


def keep_artifact(store: Store, run_id: str, idx: int, saved: GeneratedFile) -> None:
    """Keep a downloaded generated file of one of the store owner's runs for good (blob and gallery row); one
    whose download failed is skipped."""
    store.own_run(run_id)
    if saved.path:
        blobs.keep(store.data_dir, saved.path)
        store.add_artifact(
            run_id, idx, saved.file_id, saved.filename, saved.mime_type, saved.size_bytes, saved.path, saved.tool_use_id
        )


def _execute_turn(store: Store, settings: Settings, claim: Claim, stop_signal: StopSignal) -> Outcome | None:
    """One claimed turn, its outcome written; None when it failed outside the turn (also written)."""
    run_id, idx = claim.run_id, claim.idx
    try:
        req = request_from(claim.request, settings, history_before(store, run_id, idx))
        # the code's queries run as whoever asked, each source checked for them again in lib.sources
        queries = (
            data_sources.runner_for(data_sources.asker_from(claim.request, claim.owner), settings)
            if req.sources
            else None
        )
        turn = Turn(
            make_client(settings),
            req,
            settings.data_dir,
            settings.data_dir / "artifacts" / run_id,
            stop_signal,
            guard=lambda: check_user_budget(store, store.owner, settings.prices),
            queries=queries,
        )
        outcome = record(store, run_id, idx, turn.events())
    except BaseException as exc:  # noqa: BLE001 - the thread must leave a readable state whatever happened
        err = describe(exc)
        seq = store.next_seq(run_id, idx)
        store.put_item(
            run_id, idx, seq, RunError(title=err.title, message=err.message, hint=err.hint, retryable=err.retryable)
        )
        message = str(err)
        store.settle_turn(run_id, idx, "error", message, finished_at=time.time(), error=message)
        return None
    keep_trace(store, settings.data_dir, run_id, idx)  # before its status is written: a finished turn has its trace
    return outcome


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
            asker = data_sources.asker_from(claim.request, claim.owner) if run.sources else None
            queued = queue_turn(store, settings, run_id, question, asker)
        except AppError as err:  # a budget reached half way: the replay waits, its answers so far are kept
            store.put_item(
                run_id, idx, store.next_seq(run_id, idx), Notice(text=f"The replay paused: {err.message} {err.hint}")
            )
    if queued is None:
        store.settle_turn(run_id, idx, status, str(outcome.error) if outcome.error else "")
        return None
    store.update_turn(run_id, idx, status=status)
    if not store.embedded:
        return None  # any worker claims it
    return store.as_owner(store.owner, admin=True).claim_turn(LOCAL_WORKER, LEASE_SECONDS, (run_id, queued))
