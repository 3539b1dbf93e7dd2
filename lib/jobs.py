"""Background runs: each turn streams in its own thread and writes every change to the store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from lib import analysis
from lib.client import make_client
from lib.cost import budget_reached, budget_used_sentence
from lib.errors import AppError, describe
from lib.runview import run_cost
from lib.settings import Settings
from lib.store import Run, Store
from lib.transcript import GeneratedFile, Item, RunError
from lib.usage import check_user_budget

WRITE_INTERVAL = 0.1


@dataclass
class Job:
    """A turn being worked on in a background thread."""

    run_id: str
    stop: analysis.StopSignal = field(default_factory=analysis.StopSignal)
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


def is_active(run_id: str) -> bool:
    """Whether a thread of this process is working on the run."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    return bool(job and job.thread and job.thread.is_alive())


def active_ids() -> set[str]:
    """Runs a thread of this process is working on."""
    with _jobs_lock:
        return {run_id for run_id, job in _jobs.items() if job.thread and job.thread.is_alive()}


def recover(store: Store) -> list[str]:
    """Once per process and data directory: runs left active by a dead process become 'interrupted'."""
    key = str(store.path)
    with _jobs_lock:
        if key in _recovered:
            return []
        _recovered.add(key)
    return store.mark_interrupted(keep=active_ids())


def new_run(store: Store, settings: Settings, question: str, file_ids: list[str]) -> Run:
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
        question.strip().splitlines()[0] if question.strip() else "Analysis",
        settings.model,
        settings.tool_version,
        file_ids,
        demo=settings.demo,
        budget_usd=settings.run_budget_usd,
    )
    start_turn(store, settings, run.id, question)
    return run


def start_turn(store: Store, settings: Settings, run_id: str, question: str) -> int:
    """Add a turn to one of the store owner's runs and start streaming it in the background; returns its index."""
    run = store.run(run_id)
    if run is None:
        raise KeyError(run_id)
    if is_active(run_id):
        raise RunBusyError()
    user_budget = check_user_budget(store, store.owner, settings.prices)
    if user_budget is not None:
        raise user_budget
    turns = store.turns(run_id)
    spent = run_cost(turns, run.model, settings.prices).total_usd
    if budget_reached(run.budget_usd, spent):
        raise BudgetReachedError(spent, run.budget_usd)
    history = analysis.history_messages([(t.user_content, t.assistant_content) for t in turns])
    # without a known container the next request starts a new one, so every file of the run goes along again
    already = analysis.attached_ids(history) if run.container_id else set()
    pending = [f for f in run.file_ids if f not in already]
    note = analysis.files_note([r for r in (store.file(f) for f in pending) if r is not None])
    user = analysis.user_content(question, pending, note)
    idx = store.start_turn(run_id, question, user)
    req = analysis.TurnRequest(
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
    job = Job(run_id=run_id)
    job.thread = threading.Thread(
        target=_work, args=(store, settings, job, idx, req), daemon=True, name=f"run-{run_id[:8]}"
    )
    with _jobs_lock:
        _jobs[run_id] = job
    job.thread.start()
    return idx


def stop(run_id: str) -> bool:
    """Stop the run's current turn at once; returns whether one was running."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    if not job or not job.thread or not job.thread.is_alive():
        return False
    job.stop.stop()
    return True


def wait(run_id: str, timeout: float = 30.0) -> bool:
    """Block until the run's current turn ends (for tests and scripts); returns whether it did."""
    with _jobs_lock:
        job = _jobs.get(run_id)
    if job and job.thread:
        job.thread.join(timeout)
        return not job.thread.is_alive()
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


def record(store: Store, run_id: str, idx: int, events: Iterator[analysis.TurnEvent]) -> analysis.Outcome:
    """Write every event of a turn to the store as it arrives; returns the outcome."""
    writer = ItemWriter(store, run_id, idx)
    for event in events:
        if isinstance(event, analysis.ItemEvent):
            writer.put(event.seq, event.item, event.final)
        elif isinstance(event, analysis.NoticeEvent):
            writer.put(event.seq, event.notice, True)
        elif isinstance(event, analysis.FileSaved):
            writer.put(event.seq, event.file, True)
            _keep_artifact(store, run_id, idx, event.file)
        elif isinstance(event, analysis.UsageEvent):
            store.update_turn(run_id, idx, usage=event.usage)
        elif isinstance(event, analysis.ContainerEvent):
            store.update_run(run_id, container_id=event.container_id, container_expires_at=event.expires_at)
        elif isinstance(event, analysis.Outcome):
            writer.flush()
            status = {"done": "done", "stopped": "stopped", "failed": "error"}[event.status]
            error = str(event.error) if event.error else ""
            store.update_turn(
                run_id,
                idx,
                status=status,
                finished_at=time.time(),
                assistant_content=event.content,
                usage=event.usage,
                stop_reason=event.stop_reason,
                container_id=event.container_id,
                requests=event.requests,
                error=error,
                user_content=event.user_content,
            )
            store.update_run(run_id, status=status, error=error)
            return event
    raise AssertionError("a turn always ends with an outcome")


def _keep_artifact(store: Store, run_id: str, idx: int, saved: GeneratedFile) -> None:
    if saved.path:
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
    fresh = analysis.fetch_file(make_client(settings), file_id, found.item.tool_use_id, artifacts, settings.data_dir)
    store.put_item(run_id, found.turn_idx, found.seq, fresh)
    _keep_artifact(store, run_id, found.turn_idx, fresh)
    return fresh


def _work(store: Store, settings: Settings, job: Job, idx: int, req: analysis.TurnRequest) -> None:
    """The body of a background turn; never raises, always leaves the run in a final state."""
    run_id = job.run_id
    try:
        turn = analysis.Turn(
            make_client(settings),
            req,
            settings.data_dir,
            settings.data_dir / "artifacts" / run_id,
            job.stop,
            guard=lambda _usage: check_user_budget(store, store.owner, settings.prices),
        )
        record(store, run_id, idx, turn.events())
    except BaseException as exc:  # noqa: BLE001 - the thread must leave a readable state whatever happened
        err = describe(exc)
        seq = store.next_seq(run_id, idx)
        store.put_item(
            run_id, idx, seq, RunError(title=err.title, message=err.message, hint=err.hint, retryable=err.retryable)
        )
        store.update_turn(run_id, idx, status="error", finished_at=time.time(), error=str(err))
        store.update_run(run_id, status="error", error=str(err))
