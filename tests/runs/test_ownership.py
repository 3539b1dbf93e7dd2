"""Ownership: every store query scoped to its owner, sharing, pre-sign-in data, per-user budgets, the library."""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import UTC, datetime

import fsspec
import pytest

from lib import identity
from lib.emulator import Fault, Python, Text
from lib.errors import NotAllowedError
from lib.files import api, library
from lib.files.library import LibraryEntry
from lib.identity import LOCAL_OWNER
from lib.runs import budget as usage
from lib.runs import gallery, jobs, names, options
from lib.settings import load_settings
from lib.storage import blobs
from lib.storage.db import head
from lib.storage.records import ArtifactFilter, FileRecord
from lib.storage.store import Store
from lib.storage.users import store_for, welcome
from lib.transcript import GeneratedFile, Notice, Usage
from lib.transcript import Text as TextItem
from tests.support.legacy_db import legacy_directory
from tests.support.runs import items_of, run_to_end, upload, upload_bytes, wait_for

pytestmark = pytest.mark.auth

ISSUER = "https://idp.example.com/"
ALICE = identity.from_claims(
    {"iss": ISSUER, "sub": "a-1", "email": "Alice@Example.com", "email_verified": True, "name": "Alice"},
    frozenset({"alice@example.com"}),
)
BOB = identity.from_claims({"iss": ISSUER, "sub": "b-2", "email": "bob@example.com"}, frozenset({"alice@example.com"}))


def _fill(store: Store, tag: str) -> tuple[str, int]:
    """A file, a run with a turn, an item and an artifact, all of the store's owner; returns (run id, artifact id)."""
    store.add_file(
        FileRecord(f"file_{tag}", f"{tag}.csv", "text/csv", 3, f"hash-{tag}", "csv", f"uploads/{tag}.csv", time.time())
    )
    run = store.create_run(f"{tag} question", "claude-sonnet-4-6", "code_execution_20260521", [f"file_{tag}"])
    idx = store.add_turn(run.id, f"{tag} question", [{"type": "text", "text": tag}])
    store.update_turn(run.id, idx, status="done", usage=Usage(input_tokens=1_000_000, output_tokens=0))
    store.put_item(run.id, idx, 0, TextItem(text=f"{tag} answer"))
    store.add_artifact(run.id, idx, f"out_{tag}", f"{tag}.png", "image/png", 10, f"artifacts/{tag}.png", "srvtoolu_1")
    arts, _ = store.artifacts(ArtifactFilter())
    return run.id, arts[0].id


def test_identity_is_issuer_and_subject_and_admins_are_named_by_verified_email():
    assert ALICE.owner == "https://idp.example.com#a-1" and ALICE.admin and ALICE.signed_in
    assert BOB.owner == "https://idp.example.com#b-2" and not BOB.admin
    # the same subject at another issuer is someone else; an unverified email does not make an admin
    other = identity.from_claims(
        {"iss": "https://other.example", "sub": "a-1", "email": "alice@example.com", "email_verified": False},
        frozenset({"alice@example.com"}),
    )
    assert other.owner != ALICE.owner and not other.admin
    with pytest.raises(ValueError, match="subject"):
        identity.from_claims({"iss": ISSUER, "email": "x@example.com"}, frozenset())
    assert load_settings({}, {"ANALYST_ADMINS": " Alice@Example.com ,bob@example.com,"}).admins == {
        "alice@example.com",
        "bob@example.com",
    }


def test_every_store_query_sees_only_its_owners_data(data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    a_run, a_art = _fill(alice, "alice")
    b_run, b_art = _fill(bob, "bob")

    # reads: Bob sees his own and nothing of Alice's, whichever way he asks
    assert [f.id for f in bob.files()] == ["file_bob"]
    assert bob.file("file_alice") is None and bob.file_by_hash("hash-alice") is None
    assert [r.id for r in bob.runs()] == [b_run] and bob.run(a_run) is None
    assert bob.turns(a_run) == [] and bob.items(a_run) == [] and bob.next_seq(a_run, 0) == 0
    assert [a.id for a in bob.artifacts(ArtifactFilter())[0]] == [b_art]
    assert bob.artifacts(ArtifactFilter(run_id=a_run)) == ([], 0)
    assert bob.artifacts(ArtifactFilter(words="alice")) == ([], 0)
    assert bob.artifact(a_art) is None
    assert [t.run_id for t in bob.turn_usage_since(0)] == [b_run]
    assert bob.search_runs("alice") == [] and bob.runs_named("alice question") == []
    assert bob.file_names(["file_alice", "file_bob"]) == {"file_bob": "bob.csv"}

    # writes: Bob's attempts on Alice's data change nothing
    bob.update_run(a_run, title="hijacked", budget_usd=99, shared=True)
    bob.delete_run(a_run)
    bob.set_file_notes("file_alice", "hijacked")
    bob.remove_file("file_alice")
    bob.forget_artifact(a_art)
    bob.put_item(a_run, 0, 5, TextItem(text="injected"))
    bob.update_turn(a_run, 0, status="error")
    bob.add_artifact(a_run, 0, "out_x", "x.png", "image/png", 1, "artifacts/x.png", "t")
    assert bob.mark_interrupted(only={a_run}) == []
    with pytest.raises(NotAllowedError):
        bob.add_turn(a_run, "mine now?", [])
    with pytest.raises(NotAllowedError):
        names.rename(bob, a_run, "hijacked")
    with pytest.raises(NotAllowedError):
        bob.add_file(FileRecord("file_alice", "x.csv", "text/csv", 1, "h", "csv", "", time.time()))
    for admin_only in (
        bob.users,
        lambda: bob.known_file_ids(["file_alice"]),
        bob.take_over_local_data,
        lambda: bob.set_monthly_budget("x", 1),
    ):
        with pytest.raises(NotAllowedError):
            admin_only()
    with pytest.raises(NotAllowedError):
        bob.turn_usage_since(0, every_owner=True)

    run = alice.run(a_run)
    assert run.title == "alice question" and run.budget_usd == 0 and not run.shared and run.owner == ALICE.owner
    assert run.name == "alice question"
    assert alice.file("file_alice").notes == "" and alice.artifact(a_art) is not None
    assert [s.item.text for s in alice.items(a_run)] == ["alice answer"]
    assert [t.status for t in alice.turns(a_run)] == ["done"]
    assert alice.artifacts(ArtifactFilter())[1] == 1
    # the admin looks across users only through the admin methods
    # uploads and generated files of anyone's runs are known; other ids are not
    known = alice.known_file_ids(["file_alice", "file_bob", "out_alice", "out_bob", "file_stray"])
    assert known == {"file_alice", "file_bob", "out_alice", "out_bob"}
    assert {t.owner for t in alice.turn_usage_since(0, every_owner=True)} == {ALICE.owner, BOB.owner}


def test_a_shared_run_is_readable_by_others_but_stays_the_owners(data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    a_run, a_art = _fill(alice, "alice")
    welcome(alice, ALICE)
    alice.update_run(a_run, shared=True)
    shared = bob.run(a_run)
    assert shared is not None and shared.shared and not bob.owns(shared) and alice.owns(shared)
    assert [s.item.text for s in bob.items(a_run)] == ["alice answer"] and len(bob.turns(a_run)) == 1
    assert bob.display_name(ALICE.owner) == "Alice@Example.com"
    # but not listed as Bob's, not in his gallery, and not his to change
    assert bob.runs() == [] and bob.artifacts(ArtifactFilter(run_id=a_run)) == ([], 0) and bob.artifact(a_art) is None
    assert bob.search_runs("") == [] and bob.search_runs("alice") == []
    bob.update_run(a_run, budget_usd=5, shared=False)
    bob.delete_run(a_run)
    with pytest.raises(NotAllowedError, match="read-only"):
        bob.add_turn(a_run, "a follow-up", [])
    with pytest.raises(NotAllowedError, match="read-only"):
        names.rename(bob, a_run, "Bob's name for it")
    assert bob.run(a_run).name == "alice question"
    assert alice.run(a_run).shared and alice.run(a_run).budget_usd == 0 and len(alice.turns(a_run)) == 1


def test_data_from_before_sign_in_is_migrated_and_taken_over_by_the_first_admin(data_dir):
    # a version 3 database, as the app kept it before owners existed
    legacy_directory(data_dir, 3, notes="EUR")

    base = Store(data_dir)
    assert sqlite3.connect(base.path).execute("SELECT version_num FROM alembic_version").fetchone()[0] == head()
    # without sign-in nothing changes: the local user has it all
    assert base.owner == LOCAL_OWNER and base.run("run_old").owner == LOCAL_OWNER
    assert base.file("file_old").notes == "EUR" and len(base.turns("run_old")) == 1
    bob, alice = store_for(base, BOB), store_for(base, ALICE)
    # a user who is not an admin signs in first: it is not theirs
    assert welcome(bob, BOB) == 0 and bob.runs() == [] and bob.files() == []
    assert welcome(alice, ALICE) == 1
    assert [r.id for r in alice.runs()] == ["run_old"] and [f.id for f in alice.files()] == ["file_old"]
    assert len(alice.turns("run_old")) == 1 and base.runs() == [] and base.files() == []
    # a second admin gets nothing more
    carol = identity.from_claims(
        {"iss": ISSUER, "sub": "c-3", "email": "carol@example.com", "email_verified": True},
        frozenset({"carol@example.com"}),
    )
    assert welcome(store_for(base, carol), carol) == 0
    assert {u.email.lower() for u in alice.users()} == {"alice@example.com", "bob@example.com", "carol@example.com"}


def test_monthly_budget_refuses_new_runs_and_follow_ups_before_any_request(settings, emulator, data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    welcome(alice, ALICE)
    welcome(bob, BOB)
    emulator.queue_script([Text("First answer.")])
    run = jobs.new_run(bob, settings, "What is in here?", [])
    assert jobs.wait(run.id, 30)
    spent = usage.my_month(bob, settings.prices).cost_usd
    assert spent > 0 and usage.check_user_budget(bob, bob.owner, settings.prices) is None

    alice.set_monthly_budget(BOB.owner, spent)  # the admin sets Bob's budget at what he has used
    sent = len(emulator.requests)
    with pytest.raises(usage.MonthlyBudgetReachedError) as refused:
        jobs.start_turn(bob, settings, run.id, "And a follow-up?")
    assert "Monthly budget reached" in str(refused.value) and "of your" in refused.value.message
    assert "admin" in refused.value.hint
    with pytest.raises(usage.MonthlyBudgetReachedError):
        jobs.new_run(bob, settings, "A new question", [])
    assert len(emulator.requests) == sent and [r.id for r in bob.runs()] == [run.id]  # nothing sent, no empty run
    assert len(bob.turns(run.id)) == 1
    # other users are not held back by Bob's budget; raising it lets Bob go on
    assert usage.check_user_budget(alice, alice.owner, settings.prices) is None
    alice.set_monthly_budget(BOB.owner, spent * 3)
    emulator.queue_script([Text("Second answer.")])
    jobs.start_turn(bob, settings, run.id, "And a follow-up?")
    assert jobs.wait(run.id, 30) and len(bob.turns(run.id)) == 2
    # last month's spending does not count this month
    next_month = datetime(2100, 1, 15, tzinfo=UTC)
    alice.set_monthly_budget(BOB.owner, 0.000001)
    assert usage.check_user_budget(bob, bob.owner, settings.prices) is not None
    assert usage.check_user_budget(bob, bob.owner, settings.prices, now=next_month) is None
    rows = {r.owner: r for r in usage.everyone_month(alice, settings.prices)}
    assert rows[BOB.owner].runs == 1 and rows[BOB.owner].turns == 2 and rows[BOB.owner].budget_reached
    assert rows[ALICE.owner].runs == 0 and rows[ALICE.owner].cost_usd == 0


def test_files_page_catalogue_is_per_user_and_remote_only_files_are_for_admins(client, data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    data = b"a,b\n1,2\n"

    def up(store: Store, name: str) -> str:
        content = data + f"3,{name}\n".encode()  # different content per user, so nothing is deduplicated
        return upload_bytes(client, store, data_dir, name, content).id

    a_id, b_id = up(alice, "alice.csv"), up(bob, "bob.csv")
    stray = api.upload(client, "stray.csv", b"x\n1\n", "text/csv").id  # in the workspace, in nobody's library
    remote = api.list_all(client)
    assert {e.id: e.status for e in library.catalogue(bob, remote)} == {b_id: "ok"}
    assert {e.id: e.status for e in library.catalogue(alice, remote)} == {a_id: "ok", stray: "remote only"}
    # Bob can neither delete nor download what is not his, whatever id he sends
    problems = library.delete(client, bob, data_dir, [a_id, stray])
    assert len(problems) == 2 and all("not in your library" in p for p in problems)
    assert {f.id for f in api.list_all(client)} >= {a_id, stray}
    entry = library.catalogue(alice, remote)[0]
    with pytest.raises(library.AppError, match="not in your library"):
        library.file_bytes(client, bob, data_dir, entry)
    assert library.delete(client, alice, data_dir, [stray]) == []
    assert stray not in {f.id for f in api.list_all(client)}


def test_the_job_writes_only_into_its_owners_run(settings, emulator, data_dir):
    base = Store(data_dir)
    bob = store_for(base, BOB)
    emulator.queue_script([Text("Answer for Bob.")])
    run = jobs.new_run(bob, settings, "Bob asks", [])
    assert jobs.wait(run.id, 30)
    assert base.run(run.id) is None  # the local (single-user) view does not see a signed-in user's run
    texts = [s.item.text for s in bob.items(run.id) if hasattr(s.item, "text")]
    assert "Answer for Bob." in "".join(texts)


TWO_TABLES = (
    "import os\nos.makedirs('outputs', exist_ok=True)\n"
    "open('outputs/totals.csv', 'w').write('region,total\\nNorth,220\\n')\n"
    "open('outputs/months.csv', 'w').write('month,total\\n2024-01,100\\n')\nprint('saved')"
)


def _data_files(data_dir) -> dict[str, bytes]:
    """Every file of the data directory but the database, with its content."""
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and not p.name.startswith("analyst.sqlite")
    }


def test_stopping_another_users_run_is_refused_and_the_run_goes_on(settings, emulator, data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    file_id = upload(settings, alice)
    with emulator.held_analysis("What is in here?", ["sales.csv"]) as gate:
        run = jobs.new_run(alice, settings, "What is in here?", [file_id])
        wait_for(
            lambda: any(isinstance(i, TextItem) and i.text for i in items_of(alice, run.id)), 15, "the first words"
        )
        with pytest.raises(NotAllowedError, match="not found"):
            jobs.stop(run.id, bob)
        options.set_shared(alice, run.id, True)
        with pytest.raises(NotAllowedError, match="read-only"):
            jobs.stop(run.id, bob)
        assert jobs.is_active(run.id, alice) and not alice.turn_state(run.id).stop_requested
        gate.set()
        assert jobs.wait(run.id, 60)
    assert alice.run(run.id).status == "done"
    assert not any(isinstance(i, Notice) and "Stopped" in i.text for i in items_of(alice, run.id))


def test_a_reader_of_a_shared_run_cannot_retry_its_downloads(settings, emulator, data_dir):
    blob_url = f"memory://owners-{uuid.uuid4().hex}"
    blobs.configure(data_dir, blob_url)
    try:
        base = Store(data_dir)
        alice, bob = store_for(base, ALICE), store_for(base, BOB)
        file_id = upload(settings, alice)
        emulator.inject(Fault("cut", path="/v1/files/*/content"))
        emulator.queue_script([Python(TWO_TABLES), Text("Both tables are saved.")])
        run_id = run_to_end(alice, settings, "Make two tables", [file_id])
        failed = next(i for i in items_of(alice, run_id) if isinstance(i, GeneratedFile) and i.retryable)
        options.set_shared(alice, run_id, True)
        remote = fsspec.filesystem("memory")
        sent, files, kept = len(emulator.requests), _data_files(data_dir), remote.find(blob_url)

        with pytest.raises(NotAllowedError, match="read-only"):
            jobs.retry_file(bob, settings, run_id, failed.file_id)
        assert len(emulator.requests) == sent, "nothing was fetched with the app's key"
        assert _data_files(data_dir) == files and remote.find(blob_url) == kept
        assert alice.artifacts(ArtifactFilter(run_id=run_id))[1] == 1
        # the owner can
        assert jobs.retry_file(alice, settings, run_id, failed.file_id).path
        assert alice.artifacts(ArtifactFilter(run_id=run_id))[1] == 2 and len(remote.find(blob_url)) == len(kept) + 1
    finally:
        blobs.configure(data_dir, "")


def test_the_admins_library_lists_no_generated_file_of_anyones_run(settings, emulator, data_dir, client):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    welcome(alice, ALICE)
    welcome(bob, BOB)
    file_id = upload(settings, bob)
    # Bob's run makes two files: one is not downloaded (a cut download), the other is, then deleted from his
    # gallery; both stay in the shared workspace
    emulator.inject(Fault("cut", path="/v1/files/*/content"))
    emulator.queue_script([Python(TWO_TABLES), Text("Both tables are saved.")])
    run_id = run_to_end(bob, settings, "Make two tables", [file_id])
    made = {i.file_id for i in items_of(bob, run_id) if isinstance(i, GeneratedFile)}
    (kept,) = bob.artifacts(ArtifactFilter(run_id=run_id))[0]
    gallery.delete_artifact(bob, data_dir, kept)
    stray = api.upload(client, "stray.csv", b"x\n1\n", "text/csv").id  # in the workspace, nobody's here
    remote = api.list_all(client)
    assert len(made) == 2 and made | {file_id, stray} == {r.id for r in remote}

    assert {e.id: e.status for e in library.catalogue(alice, remote)} == {stray: "remote only"}
    for generated in sorted(made):
        entry = LibraryEntry(generated, "t.csv", "generated", "text/csv", 9, datetime.now(UTC), True, "remote only", "")
        with pytest.raises(NotAllowedError, match="not in your library"):
            library.file_bytes(client, alice, data_dir, entry)
    problems = library.delete(client, alice, data_dir, sorted(made))
    assert len(problems) == 2 and all("not in your library" in p for p in problems)
    assert {r.id for r in api.list_all(client)} == made | {file_id, stray}
    assert not (data_dir / "downloads").exists()


def test_a_library_download_reads_the_catalogues_copy_not_a_path_the_caller_gives(client, data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    theirs = upload_bytes(client, alice, data_dir, "alice.csv", b"a,b\n1,alice\n")
    mine = upload_bytes(client, bob, data_dir, "bob.csv", b"a,b\n2,bob\n")
    (entry,) = library.catalogue(bob, api.list_all(client))
    forged = LibraryEntry(**{**entry.__dict__, "local_path": theirs.local_path})
    assert library.file_bytes(client, bob, data_dir, forged) == b"a,b\n2,bob\n" and entry.id == mine.id


def test_usage_carries_no_questions_and_only_sharers_are_named(data_dir):
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    welcome(alice, ALICE)
    welcome(bob, BOB)
    _fill(bob, "bob")
    turns = alice.turn_usage_since(0, every_owner=True)
    assert [t.turn.usage.input_tokens for t in turns] == [1_000_000]
    assert [(t.turn.question, t.turn.user_content, t.turn.assistant_content) for t in turns] == [("", [], [])]
    assert alice.display_name(BOB.owner) == "bob@example.com"  # to an admin
    carol = store_for(base, identity.from_claims({"iss": ISSUER, "sub": "c-3"}, frozenset()))
    assert carol.display_name(BOB.owner) == "another user"  # Bob shares nothing
    bob.update_run(bob.runs()[0].id, shared=True)
    assert carol.display_name(BOB.owner) == "bob@example.com"
