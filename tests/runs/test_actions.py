"""Every action of lib on a run, turn, file or artifact, tried by a user it does not belong to.

Alice has two finished runs on one uploaded file, each with a kept generated file (a gallery artifact, its blob
in the object store) and one whose download was cut. One run is shared read-only. Bob tries every write action
on her private run (a stranger) and on her shared run (a reader): each is refused and changes nothing, neither
the database, the data directory, the object store, the requests the API received, nor the stop signals of her
turns. Reads give a stranger nothing. A last test keeps the tables complete: every public function of lib/runs,
lib/files, lib/storage and lib/sources that takes a store, a run, a file, an artifact or their ids is in one of
them, or named with the reason it needs no row.
"""

from __future__ import annotations

import importlib
import inspect
import io
import pkgutil
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fsspec
import pytest
import sqlalchemy as sa

import lib.files
import lib.runs
import lib.sources
import lib.storage
from lib import identity
from lib.client import make_client
from lib.emulator import Emulator, Fault, Python, Text
from lib.errors import AppError, NotAllowedError
from lib.files import library
from lib.files.library import LibraryEntry
from lib.runs import (
    budget,
    enqueue,
    execute,
    export,
    gallery,
    jobs,
    names,
    options,
    recovery,
    replay,
    threads,
    traces,
    view,
    waiting,
)
from lib.runs.threads import Job
from lib.settings import Settings, load_settings
from lib.storage import blobs, db
from lib.storage.records import Artifact, ArtifactFilter, Claim, FileRecord, TableProfile
from lib.storage.scope import Scope
from lib.storage.store import Store
from lib.storage.users import store_for, welcome
from lib.transcript import GeneratedFile
from lib.transcript import Text as TextItem
from lib.turn import stream
from tests.support.runs import items_of, run_to_end, upload

pytestmark = pytest.mark.auth

ISSUER = "https://idp.example.com/"
ALICE = identity.from_claims({"iss": ISSUER, "sub": "a-1", "email": "alice@example.com"}, frozenset())
BOB = identity.from_claims({"iss": ISSUER, "sub": "b-2", "email": "bob@example.com"}, frozenset())
CAROL = identity.from_claims({"iss": ISSUER, "sub": "c-3", "email": "carol@example.com"}, frozenset())
TWO_TABLES = (
    "import os\nos.makedirs('outputs', exist_ok=True)\n"
    "open('outputs/totals.csv', 'w').write('region,total\\nNorth,220\\n')\n"
    "open('outputs/months.csv', 'w').write('month,total\\n2024-01,100\\n')\nprint('saved')"
)


@dataclass
class Target:
    """One of Alice's runs, with what Bob aims at in it."""

    run_id: str
    artifact: Artifact  # a kept generated file, in the gallery and the object store
    failed: str  # the id of a generated file whose download was cut (what Retry fetches)


@dataclass
class World:
    """Alice's data as Bob finds it, and how to tell whether anything changed."""

    settings: Settings
    emulator: Emulator
    base: Store
    alice: Store
    bob: Store
    file: FileRecord
    private: Target
    shared: Target
    blob_url: str
    jobs: dict[str, Job] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def target(self, actor: str) -> Target:
        """The run a stranger aims at (private) or a reader does (shared)."""
        return self.private if actor == "stranger" else self.shared

    def view(self, target: Target) -> view.RunView:
        """The run as its owner sees it: what a caller might hold and hand over."""
        found = view.load_run_view(self.alice, target.run_id, self.settings.prices)
        assert found is not None
        return found

    def claim(self, target: Target) -> Claim:
        """A claim of the run's first turn, as a worker would hold it."""
        return Claim(ALICE.owner, target.run_id, 0, {}, False)

    def entry(self) -> LibraryEntry:
        """Alice's file as her library lists it."""
        f = self.file
        when = datetime.fromtimestamp(f.created_at, tz=UTC)
        return LibraryEntry(f.id, f.filename, f.kind, f.mime_type, f.size_bytes, when, False, "ok", f.local_path)

    def snapshot(self) -> dict[str, Any]:
        """Everything an action could change."""
        with self.base.engine.connect() as conn:
            rows = {t.name: sorted(map(tuple, conn.execute(sa.select(t)))) for t in db.metadata.sorted_tables}
        memory = fsspec.filesystem("memory")
        return {
            "rows": rows,
            "files": {
                str(p.relative_to(self.data_dir)): p.read_bytes()
                for p in sorted(self.data_dir.rglob("*"))
                if p.is_file() and not p.name.startswith(db.SQLITE_NAME)
            },
            "blobs": {path: memory.cat_file(path) for path in memory.find(self.blob_url)},
            "requests": [(r.method, r.path) for r in self.emulator.requests],
            "stops": {run_id: job.stop.is_set() for run_id, job in self.jobs.items()},
        }


def _target(store: Store, settings: Settings, emulator: Emulator, file_id: str, question: str) -> Target:
    emulator.inject(Fault("cut", path="/v1/files/*/content"))
    emulator.queue_script([Python(TWO_TABLES), Text("Both tables are saved.")])
    run_id = run_to_end(store, settings, question, [file_id])
    (artifact,) = store.artifacts(ArtifactFilter(run_id=run_id))[0]
    failed = next(i for i in items_of(store, run_id) if isinstance(i, GeneratedFile) and i.retryable)
    return Target(run_id, artifact, failed.file_id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Alice's runs, shared by this module's tests (an action that changed anything fails its own test)."""
    data_dir = tmp_path_factory.mktemp("actions") / "data"
    blob_url = f"memory://actions-{uuid.uuid4().hex}"
    blobs.configure(data_dir, blob_url)
    gate = threading.Event()
    with Emulator() as emu:
        env = {"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": emu.url, "ANALYST_DATA_DIR": str(data_dir)}
        settings = load_settings({}, env)
        base = Store(data_dir)
        alice, bob = store_for(base, ALICE), store_for(base, BOB)
        for user in (ALICE, BOB, CAROL):
            welcome(store_for(base, user), user)
        file_id = upload(settings, alice)
        private = _target(alice, settings, emu, file_id, "Make two tables")
        shared = _target(alice, settings, emu, file_id, "Make two tables again")
        options.set_shared(alice, shared.run_id, True)
        record = alice.file(file_id)
        assert record is not None
        w = World(settings, emu, base, alice, bob, record, private, shared, blob_url)
        # each run has a turn being worked on in this process, as far as a Stop could tell
        for target in (private, shared):
            job = Job(target.run_id, thread=threading.Thread(target=gate.wait, daemon=True))
            assert job.thread is not None
            job.thread.start()
            threads.register(job)
            w.jobs[target.run_id] = job
        try:
            yield w
        finally:
            gate.set()
            blobs.configure(data_dir, "")


# --- writes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    """A write action, called as Bob on one of Alice's runs; refused by raising `raises` (or, with `refused`, by
    what it returns). `reader` checks an action a reader of a shared run may do (exports) instead of refusing it."""

    name: str
    call: Callable[[World, Target], Any]
    raises: type[Exception] = NotAllowedError
    refused: Callable[[Any], bool] | None = None
    reader: Callable[[World, Any], None] | None = None


def _no_inputs_in_notebook(w: World, nb: str) -> None:
    assert w.file.filename not in nb and "This run had no input files." in nb


def _no_inputs_in_zip(w: World, data: bytes) -> None:
    upload_bytes = (w.data_dir / w.file.local_path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert not [n for n in zf.namelist() if n.startswith("inputs/")]
        assert all(zf.read(n) != upload_bytes for n in zf.namelist())


def _false(result: Any) -> bool:
    return result is False


def _nothing(result: Any) -> bool:
    return result is None or result in ([], set(), {}, 0, ([], 0))


def _claim(w: World, t: Target) -> Any:
    return execute.execute_claim(w.bob, w.settings, w.claim(t), stream.StopSignal())


def _keep(w: World, t: Target) -> Any:
    made = GeneratedFile("file_x", "x.csv", "text/csv", 3, t.artifact.path)
    return execute.keep_artifact(w.bob, t.run_id, 0, made)


def _library_delete(w: World, t: Target) -> Any:
    return library.delete(make_client(w.settings), w.bob, w.data_dir, [w.file.id, t.artifact.file_id])


def _add_artifact(w: World, t: Target) -> Any:
    return w.bob.add_artifact(t.run_id, 0, "file_x", "x.csv", "text/csv", 1, t.artifact.path, "t")


WRITES: list[Write] = [
    # what pages and the CLI call
    Write("jobs.stop", lambda w, t: jobs.stop(t.run_id, w.bob)),
    Write("jobs.retry_file", lambda w, t: jobs.retry_file(w.bob, w.settings, t.run_id, t.failed)),
    Write("jobs.start_turn", lambda w, t: jobs.start_turn(w.bob, w.settings, t.run_id, "A follow-up?")),
    Write("jobs.continue_replay", lambda w, t: jobs.continue_replay(w.bob, w.settings, t.run_id)),
    Write(
        "jobs.start_replay",
        lambda w, t: jobs.start_replay(w.bob, w.settings, t.run_id, {w.file.id: w.file.id}),
        raises=replay.ReplayError,
    ),
    Write("jobs.new_run", lambda w, t: jobs.new_run(w.bob, w.settings, "On her file?", [w.file.id]), raises=AppError),
    Write("enqueue.queue_turn", lambda w, t: enqueue.queue_turn(w.bob, w.settings, t.run_id, "Queued?")),
    Write("options.set_budget", lambda w, t: options.set_budget(w.bob, t.run_id, 5.0)),
    Write("options.set_shared", lambda w, t: options.set_shared(w.bob, t.run_id, t is w.private)),
    Write("budget.set_monthly_budget", lambda w, t: budget.set_monthly_budget(w.bob, BOB.owner, 100.0)),
    Write("export.notebook", lambda w, t: export.notebook(w.bob, w.view(t), w.data_dir), reader=_no_inputs_in_notebook),
    Write("export.report_zip", lambda w, t: export.report_zip(w.bob, w.view(t), w.data_dir), reader=_no_inputs_in_zip),
    Write("gallery.zip_bytes", lambda w, t: gallery.zip_bytes(w.bob, w.data_dir, [t.artifact])),
    Write("gallery.delete_artifact", lambda w, t: gallery.delete_artifact(w.bob, w.data_dir, t.artifact)),
    Write("library.delete", _library_delete, refused=lambda problems: len(problems) == 2),
    Write("library.file_bytes", lambda w, t: library.file_bytes(make_client(w.settings), w.bob, w.data_dir, w.entry())),
    Write("library.save_notes", lambda w, t: library.save_notes(w.bob, w.file.id, "mine now")),
    Write("recovery.settle", lambda w, t: recovery.settle(w.bob, only={t.run_id}), refused=_nothing),
    # the worker's side: running a turn and recording it
    Write("execute.start_local", lambda w, t: execute.start_local(w.bob, w.settings, w.claim(t))),
    Write("execute.execute_claim", _claim),
    Write("execute.record", lambda w, t: execute.record(w.bob, t.run_id, 0, iter(()))),
    Write("execute.keep_artifact", _keep),
    # the store itself
    Write("Store.update_run", lambda w, t: w.bob.update_run(t.run_id, title="mine", shared=True), refused=_false),
    Write("Store.delete_run", lambda w, t: w.bob.delete_run(t.run_id), refused=_false),
    Write("Store.add_turn", lambda w, t: w.bob.add_turn(t.run_id, "mine?", [])),
    Write("Store.update_turn", lambda w, t: w.bob.update_turn(t.run_id, 0, status="error"), refused=_false),
    Write("Store.settle_turn", lambda w, t: w.bob.settle_turn(t.run_id, 0, "error", "mine"), refused=_false),
    Write("Store.put_item", lambda w, t: w.bob.put_item(t.run_id, 0, 99, TextItem(text="injected")), refused=_false),
    Write("Store.add_artifact", _add_artifact, refused=_false),
    Write("Store.forget_artifact", lambda w, t: w.bob.forget_artifact(t.artifact.id), refused=_false),
    Write("Store.request_stop", lambda w, t: w.bob.request_stop(t.run_id), refused=_false),
    Write("Store.mark_interrupted", lambda w, t: w.bob.mark_interrupted(only={t.run_id}), refused=_nothing),
    Write("Store.set_file_notes", lambda w, t: w.bob.set_file_notes(w.file.id, "mine"), refused=_false),
    Write(
        "Store.set_file_profile",
        lambda w, t: w.bob.set_file_profile(w.file.id, TableProfile(rows=1, columns=())),
        refused=_false,
    ),
    Write("Store.remove_file", lambda w, t: w.bob.remove_file(w.file.id), refused=_false),
    Write("Store.flag_remote_missing", lambda w, t: w.bob.flag_remote_missing(w.file.id), refused=_false),
    Write("Store.add_file", lambda w, t: w.bob.add_file(FileRecord(w.file.id, "x.csv", "text/csv", 1, "h", "", "", 0))),
    Write("Store.claim_turn", lambda w, t: w.bob.claim_turn("bob", 10.0, only=(t.run_id, 0))),
    Write("Store.heartbeat", lambda w, t: w.bob.heartbeat("bob", 10.0)),
    Write("Store.set_monthly_budget", lambda w, t: w.bob.set_monthly_budget(BOB.owner, 100.0)),
    Write("Store.take_over_local_data", lambda w, t: w.bob.take_over_local_data()),
    Write("Store.rename_run", lambda w, t: w.bob.rename_run(t.run_id, "mine now")),
    Write("names.rename", lambda w, t: names.rename(w.bob, t.run_id, "mine now")),
    Write("Store.set_trace", lambda w, t: w.bob.set_trace(t.run_id, 0, {"numbers": []}), refused=_false),
    Write(
        "Store.put_items", lambda w, t: w.bob.put_items(t.run_id, 0, {99: TextItem(text="injected")}), refused=_false
    ),
    # the workers' own rows: only the deployment's workers (admins) write them
    Write("Store.register_worker", lambda w, t: w.bob.register_worker("bob", "here", 1, 4)),
    Write("Store.beat_worker", lambda w, t: w.bob.beat_worker("bob")),
    Write("Store.remove_worker", lambda w, t: w.bob.remove_worker("worker-1")),
    Write("traces.keep_trace", lambda w, t: traces.keep_trace(w.bob, w.data_dir, t.run_id, 0), refused=_nothing),
]


@pytest.mark.parametrize("actor", ["stranger", "reader"])
@pytest.mark.parametrize("action", WRITES, ids=[a.name for a in WRITES])
def test_a_write_on_someone_elses_run_is_refused_and_changes_nothing(world: World, action: Write, actor: str):
    target = world.target(actor)
    before = world.snapshot()
    if actor == "reader" and action.reader is not None:
        action.reader(world, action.call(world, target))
    elif action.refused is not None:
        result = action.call(world, target)
        assert action.refused(result), f"{action.name} as a {actor} was not refused: {result!r}"
    else:
        with pytest.raises(action.raises):
            action.call(world, target)
    assert world.snapshot() == before, f"{action.name} as a {actor} changed something"


# --- reads --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """A read as Bob of Alice's private run (and, `owner_only`, of her shared one too): it gives nothing of hers,
    as an empty answer or a refusal."""

    name: str
    call: Callable[[World, Target], Any]
    owner_only: bool = False


def _live_look(w: World, t: Target) -> Any:
    live = view.LiveTurn(t.run_id, 0, 4)
    live.look(w.bob)
    return live.view(w.alice.run(t.run_id), w.settings.prices)


def _refresh(w: World, t: Target) -> Any:
    return view.refresh_turn(w.bob, w.alice.run(t.run_id), view.Follower(t.run_id, 0), w.settings.prices)


READS: list[Read] = [
    Read("Store.run", lambda w, t: w.bob.run(t.run_id)),
    Read("Store.readable_run", lambda w, t: w.bob.readable_run(t.run_id)),
    Read("Store.own_run", lambda w, t: w.bob.own_run(t.run_id), owner_only=True),
    Read("Store.owns", lambda w, t: w.bob.owns(w.alice.run(t.run_id)) or None, owner_only=True),
    Read("Store.turn", lambda w, t: w.bob.turn(t.run_id, 0)),
    Read("Store.turns", lambda w, t: w.bob.turns(t.run_id)),
    Read("Store.questions", lambda w, t: w.bob.questions(t.run_id)),
    Read("Store.items", lambda w, t: w.bob.items(t.run_id)),
    Read("Store.next_seq", lambda w, t: w.bob.next_seq(t.run_id, 0), owner_only=True),
    Read("Store.turn_state", lambda w, t: w.bob.turn_state(t.run_id)),
    Read("Store.runs", lambda w, t: w.bob.runs(), owner_only=True),
    Read("Store.count_runs", lambda w, t: w.bob.count_runs(), owner_only=True),
    Read("Store.find_runs", lambda w, t: w.bob.find_runs(t.run_id[:8]), owner_only=True),
    Read("Store.replays", lambda w, t: w.bob.replays(t.run_id), owner_only=True),
    Read("Store.search_runs", lambda w, t: w.bob.search_runs("sales"), owner_only=True),
    Read("Store.runs_named", lambda w, t: w.bob.runs_named(w.alice.run(t.run_id).name), owner_only=True),
    Read("Store.file_names", lambda w, t: w.bob.file_names([w.file.id]), owner_only=True),
    Read("names.find", lambda w, t: names.find(w.bob, ""), owner_only=True),
    Read("names.matching", lambda w, t: names.matching(w.bob, t.run_id)),
    Read("Store.files", lambda w, t: w.bob.files(), owner_only=True),
    Read("Store.file", lambda w, t: w.bob.file(w.file.id), owner_only=True),
    Read("Store.file_by_hash", lambda w, t: w.bob.file_by_hash(w.file.sha256), owner_only=True),
    Read("Store.artifacts", lambda w, t: w.bob.artifacts(ArtifactFilter(run_id=t.run_id)), owner_only=True),
    Read("Store.artifact", lambda w, t: w.bob.artifact(t.artifact.id), owner_only=True),
    Read("Store.known_file_ids", lambda w, t: w.bob.known_file_ids([w.file.id]), owner_only=True),
    Read("Store.generated_file_ids", lambda w, t: w.bob.generated_file_ids([t.artifact.file_id]), owner_only=True),
    Read("Store.users", lambda w, t: w.bob.users(), owner_only=True),
    Read("Store.turn_usage_since", lambda w, t: w.bob.turn_usage_since(0.0, every_owner=True), owner_only=True),
    Read("Store.active_turn_workers", lambda w, t: w.bob.active_turn_workers(), owner_only=True),
    Read("Store.display_name", lambda w, t: w.bob.display_name(CAROL.owner).replace("another user", "") or None),
    Read("jobs.is_active", lambda w, t: jobs.is_active(t.run_id, w.bob) or None),
    Read("jobs.wait", lambda w, t: None if jobs.wait(t.run_id, 0.2, w.bob) else "waited on her turn"),
    Read("view.load_run_view", lambda w, t: view.load_run_view(w.bob, t.run_id, w.settings.prices)),
    Read("view.load_comparison", lambda w, t: view.load_comparison(w.bob, t.run_id, t.run_id, w.settings.prices)),
    Read("view.Follower.poll", lambda w, t: view.Follower(t.run_id).poll(w.bob)),
    Read("view.refresh_turn", _refresh),
    Read("view.LiveTurn.look", _live_look),
    Read("Store.workers", lambda w, t: w.bob.workers(), owner_only=True),
    Read("Store.queue_depth", lambda w, t: w.bob.queue_depth(), owner_only=True),
    Read("waiting.queue_overview", lambda w, t: waiting.queue_overview(w.bob), owner_only=True),
    Read("Store.traces", lambda w, t: w.bob.traces(t.run_id)),
    Read("view.kept_trace", lambda w, t: view.kept_trace(w.bob, t.run_id)),
    Read("enqueue.history_before", lambda w, t: enqueue.history_before(w.bob, t.run_id, 5)),
    Read("replay.plan", lambda w, t: replay.plan(w.bob, t.run_id, {})),
    Read("replay.progress", lambda w, t: replay.progress(w.bob, w.alice.run(t.run_id))[0]),
    Read("gallery.page_of", lambda w, t: gallery.page_of(w.bob, ArtifactFilter(), 1, 12).cards, owner_only=True),
    Read("gallery.lineage", lambda w, t: gallery.lineage(w.bob, t.artifact).code),
    Read("library.catalogue", lambda w, t: library.catalogue(w.bob, None), owner_only=True),
    Read("budget.my_month", lambda w, t: budget.my_month(w.bob, w.settings.prices).turns, owner_only=True),
    Read("budget.everyone_month", lambda w, t: budget.everyone_month(w.bob, w.settings.prices), owner_only=True),
    Read(
        "budget.check_user_budget",
        lambda w, t: budget.check_user_budget(w.bob, ALICE.owner, w.settings.prices),
        owner_only=True,
    ),
]


READ_CASES = [(r, "stranger") for r in READS] + [(r, "reader") for r in READS if r.owner_only]


@pytest.mark.parametrize(("read", "actor"), READ_CASES, ids=[f"{r.name}-{actor}" for r, actor in READ_CASES])
def test_a_read_gives_nothing_of_someone_elses_unshared_data(world: World, read: Read, actor: str):
    try:
        result = read.call(world, world.target(actor))
    except (NotAllowedError, replay.ReplayError):
        return
    assert _nothing(result), f"{read.name} gave a {actor} {result!r}"


# --- the tables cover every action -----------------------------------------------------------------------------

# public functions that act on a run, turn, file or artifact and need no row above, each with the reason
NOT_TRIED: dict[str, str] = {
    "Store.create_run": "creates a run of the store's owner only",
    "Store.touch_user": "writes the store owner's own user row only",
    "Store.user": "reads the store owner's own user row only",
    "Store.mark_remote": "flags entries of the store owner's own catalogue only (one scoped update)",
    "Store.reap_expired": "settles a turn whose worker stopped renewing its lease, whoever's it is, as every "
    "worker does; it changes nothing else",
    "Scope.as_owner": "makes another view of the database; acts on nothing",
    "users.store_for": "makes the signed-in user's view that every check above relies on",
    "users.welcome": "writes the user's own row; taking over old data is Store.take_over_local_data (admins)",
    "library.upload_accepted": "adds to the store owner's own catalogue; Store.add_file refuses another's id",
    "budget.summarise": "pure: adds up usage rows the caller already has",
    "export.markdown": "pure over a view; its only caller, report_zip, checks the run first",
    "notebook.run_inputs": "reads the local copies of catalogue records; its only caller, export, passes the "
    "exporter's own records",
    "prompts.table_columns": "takes catalogue records, never ids: pages pass records of the user's own library",
    "replay.swaps": "reads the catalogue through the scoped store (a file not in the owner's library is None)",
    "replay.renames_for": "reads the catalogue through the scoped store",
    "replay.next_question": "reads questions through the scoped store (of runs the owner may read)",
    "replay.title_for": "pure: a title from a record",
    "gallery.card_for": "reads the owner's artifacts through the scoped store; gives back the artifact it got",
    "gallery.chart_of": "draws a card the caller read through the scoped store; takes no id",
    "gallery.thumb_for": "draws an artifact the caller read through the scoped store; takes no id",
    "gallery.icon_for": "pure: an icon for a file kind",
    "recovery.recover": "settle, once per database at start-up (tried above as recovery.settle)",
    "threads.job_of": "this process's own threads; stop and is_active check the run before using one",
    "api.metadata": "the Files API wrapper: callers check the file first (a checked turn, retry_file)",
    "api.exists": "the Files API wrapper, called on the owner's own catalogue entry",
    "api.download": "the Files API wrapper: callers check the file first (library.file_bytes, retry_file)",
    "api.delete": "the Files API wrapper: its caller library.delete checks the file first",
    "kinds.disk_name": "pure: an on-disk name",
    "names.entries": "labels runs the caller already read through the scoped store; file names through "
    "Store.file_names (tried above)",
    "search.conditions": "builds where clauses on the owner's own runs; Store.search_runs (tried above) runs them",
    "library.stored_preview": "takes a catalogue record, never an id: pages pass records of the user's own library",
    "replay.stand_ins": "reads file names through the scoped store (a file not in the owner's library is named by "
    "its id)",
    "replay.sources_note": "pure: a sentence from a record",
    "traces.known_numbers": "pure over catalogue records the caller read through the scoped store",
    "data_sources.asker_of": "says who asks; refuses a shared store without a signed-in user",
    "data_sources.asker_from": "reads who asked from a queued turn's values; refuses anyone but the run's owner",
    "Store.queue_snapshot": "the queue's shape for a queued run's page: other owners' turns only as counts",
    "waiting.place_in_queue": "counts over Store.queue_snapshot; its caller, LiveTurn.look (tried above), passes "
    "a run the page read through the scoped store",
    "queue.turns_ahead": "pure: counts over a queue snapshot",
    "Store.live_workers": "counts the workers alive; names no run",
    "notify.items": "pure: names a signal",
    "notify.state": "pure: names a signal",
    "notify.stop": "pure: names a signal",
    "view.pushed": "says whether a run's changes are signalled; reads nothing of the run",
    "view.Follower.mark": "notes signal versions; reads nothing (Follower.poll, tried above, reads)",
    "view.Follower.wait": "waits on signal versions; reads nothing (Follower.poll, tried above, reads)",
    "view.LiveTurn.view": "gives back what LiveTurn.look (tried above) read",
    "view.LiveTurn.await_first_words": "waits on signal versions; reads nothing (LiveTurn.look, tried above, reads)",
    "view.RunWatch.changed": "compares signal versions; reads nothing",
    "data_sources.snapshot_to_file": "adds to the asking user's own library through Store.add_file (tried above), "
    "querying only sources they may use (tests/sources/test_access.py)",
}

AUDITED = (lib.runs, lib.files, lib.storage, lib.sources)
# parameters that name a run, turn, file or artifact, or the store that holds them
ACTING = {"store", "run", "run_id", "original", "replay", "view", "claim", "only", "owner", "card", "entry"} | {
    "file_id",
    "file_ids",
    "record",
    "records",
    "artifact",
    "artifacts",
    "artifact_id",
}


def _actions() -> set[str]:
    """Every public function and method of the audited packages that takes a store, a run, a file, an artifact
    or their ids, as `<module>.<name>`; the store's methods as `Store.<name>`."""
    found = set()
    for package in AUDITED:
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, obj in vars(module).items():
                if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                    continue
                if inspect.isfunction(obj) and set(inspect.signature(obj).parameters) & ACTING:
                    found.add(f"{info.name}.{name}")
                elif inspect.isclass(obj):
                    found |= _methods(info.name, obj)
    return found


def _methods(module: str, cls: type) -> set[str]:
    found = set()
    for name, fn in vars(cls).items():
        if name.startswith("_") or not inspect.isfunction(fn):
            continue
        if cls is Scope:
            found.add(f"Scope.{name}")
        elif issubclass(cls, Scope):  # a part of the store
            found.add(f"Store.{name}")
        elif set(inspect.signature(fn).parameters) & ACTING:
            found.add(f"{module}.{cls.__name__}.{name}")
    return found


def test_every_action_of_lib_is_tried_or_said_why_not():
    tried = [a.name for a in WRITES] + [r.name for r in READS]
    assert len(tried) == len(set(tried)) and not set(tried) & set(NOT_TRIED)
    listed = set(tried) | set(NOT_TRIED)
    actions = _actions()
    assert not actions - listed, f"actions with no row (add one, or say in NOT_TRIED why none): {actions - listed}"
    assert not listed - actions, f"rows for actions that are gone: {listed - actions}"
