"""Background runs, as pages and the CLI ask for them: start a run or a follow-up, replay one, stop, wait,
tell whether one is being worked on, fetch a generated file again (and trace the answers' numbers again).

Turns are queued in the store (lib/runs/enqueue.py) and streamed by a worker that writes every change to it
(lib/runs/execute.py). With the embedded SQLite default this process is the worker (a thread per turn); with a
shared database, `python -m lib.worker` processes claim queued turns and pages only enqueue, watch and request
stops.
"""

from __future__ import annotations

import dataclasses
import time

from lib.client import make_client
from lib.errors import AppError
from lib.identity import User
from lib.runs import data_sources, replay
from lib.runs.budget import check_user_budget
from lib.runs.enqueue import queue_turn
from lib.runs.execute import keep_artifact, start_local
from lib.runs.threads import LOCAL_WORKER, held_elsewhere, job_of
from lib.runs.traces import keep_trace
from lib.settings import Settings
from lib.storage.queue import LEASE_SECONDS
from lib.storage.records import ACTIVE, RunRecord
from lib.storage.store import Store
from lib.transcript import GeneratedFile
from lib.turn.download import fetch_file


class RunBusyError(AppError):
    """A turn of this run is still in progress."""

    def __init__(self) -> None:
        super().__init__(
            "Still working",
            "This run is still answering the previous question.",
            "Wait for it to finish, or press Stop.",
            code="busy",
        )


def is_active(run_id: str, store: Store) -> bool:
    """Whether the run, readable by the store's owner, has its current turn worked on: by a thread of this
    process; given the embedded database, by another live process on this machine (the app beside the CLI);
    given a shared one, queued or held under a live lease by a worker anywhere."""
    state = store.turn_state(run_id)  # None for a run this owner may not read
    if state is None:
        return False
    job = job_of(run_id)
    if job and job.alive:
        return True
    if store.embedded:
        return state.status in ACTIVE and held_elsewhere(state.worker)
    return state.status == "queued" or (state.status == "running" and state.lease_until >= time.time())


def new_run(
    store: Store,
    settings: Settings,
    question: str,
    file_ids: list[str],
    title: str = "",
    replay_of: str = "",
    sources: list[str] | None = None,
    user: User | None = None,
) -> RunRecord:
    """Create a run of the store's owner for a first question and start working on it.

    `sources` names the SQL sources its code may query; each is checked for `user` (who asks; the single-user
    app's one user when None) here, and again for every query."""
    user_budget = check_user_budget(store, store.owner, settings.prices)
    if user_budget is not None:  # before the run exists, so a refused question leaves no empty run behind
        raise user_budget
    sources = list(dict.fromkeys(sources or []))
    if sources:  # before the run exists, as for the files below
        why = data_sources.tools_from_code(settings.tool_version, None)
        if why:
            raise AppError(
                "SQL sources need code that calls tools",
                why,
                "Choose code_execution_20260120 or later, or snapshot a query to a file and analyse the file.",
                code="no_tools_from_code",
            )
        data_sources.check(data_sources.asker_of(store, user), settings, sources)
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
        sources=sources,
    )
    start_turn(store, settings, run.id, question, user)
    return run


def start_replay(
    store: Store, settings: Settings, original_id: str, choice: dict[str, str], user: User | None = None
) -> RunRecord:
    """A new run of the store's owner that asks a readable finished run's questions again, in order, with their
    own library files in `choice` (original file id → stand-in id) in place of the original's; same model, tool,
    budget and SQL sources (queried again, so the answers reflect their data now)."""
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
        sources=original.sources,
        user=user,
    )


def continue_replay(store: Store, settings: Settings, run_id: str, user: User | None = None) -> int | None:
    """Ask the next question of one of the store owner's replays (after it stopped half way); returns the turn's
    index, or None if none is left."""
    question = replay.next_question(store, store.own_run(run_id))
    if question is None:
        return None
    return start_turn(store, settings, run_id, question, user)


def start_turn(store: Store, settings: Settings, run_id: str, question: str, user: User | None = None) -> int:
    """Add a turn to one of the store owner's runs and start streaming it in the background; returns its index.

    `user` is who asks (checked for the run's SQL sources; the single-user app's one user when None)."""
    store.own_run(run_id)
    if is_active(run_id, store):
        raise RunBusyError()
    idx = queue_turn(store, settings, run_id, question, user)
    if store.embedded:  # the single-process default: this process is the worker
        claim = store.as_owner(store.owner, admin=True).claim_turn(LOCAL_WORKER, LEASE_SECONDS, only=(run_id, idx))
        if claim is not None:
            start_local(store, settings, claim)
    return idx


def stop(run_id: str, store: Store) -> bool:
    """Stop the current turn of one of the store owner's runs: at once when a thread of this process runs it;
    given a shared database, by recording the request, which the worker running it sees within a second.
    Returns whether one was active."""
    store.own_run(run_id)
    job = job_of(run_id)
    local = job if job is not None and job.alive else None
    recorded = store.request_stop(run_id)
    if local is not None:
        local.stop.stop()
    return local is not None or recorded


def wait(run_id: str, timeout: float = 30.0, store: Store | None = None) -> bool:
    """Block until the run's current turn ends (for tests and scripts); returns whether it did. It reads nothing
    of the run: given a store, a run its owner may not read counts as ended."""
    if store is not None and store.run(run_id) is None:
        return True
    job = job_of(run_id)
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


def retry_file(store: Store, settings: Settings, run_id: str, file_id: str) -> GeneratedFile:
    """Fetch again a generated file of one of the store owner's runs whose download failed; its transcript item
    and the gallery are updated."""
    store.own_run(run_id)
    found = next(
        (s for s in store.items(run_id) if isinstance(s.item, GeneratedFile) and s.item.file_id == file_id), None
    )
    if found is None:
        raise AppError("File not in this run", f"The run has no generated file `{file_id}`.", "Reload the page.")
    artifacts = settings.data_dir / "artifacts" / run_id
    fresh = fetch_file(make_client(settings), file_id, found.item.tool_use_id, artifacts, settings.data_dir)
    store.put_item(run_id, found.turn_idx, found.seq, fresh)
    keep_artifact(store, run_id, found.turn_idx, fresh)
    if fresh.path:  # its numbers may trace what this turn and the later ones quote
        for turn in store.turns(run_id):
            if turn.idx >= found.turn_idx and turn.status not in ACTIVE:
                keep_trace(store, settings.data_dir, run_id, turn.idx)
    return fresh
