"""Who may query which source, decided in lib for runs as for everything else: two signed-in users on one app."""

from __future__ import annotations

import pytest

from lib import identity
from lib.emulator import Python
from lib.errors import AppError
from lib.runs import data_sources, jobs
from lib.sources import SourceNotAllowed
from lib.storage.store import Store
from lib.storage.users import store_for
from lib.transcript import Output, Query
from tests.support.runs import items_of
from tests.support.sources import declare_in_environ, make_sqlite

pytestmark = pytest.mark.sources

ISSUER = "https://idp.example.com/"
ALICE = identity.from_claims(
    {"iss": ISSUER, "sub": "a-1", "email": "alice@example.com", "email_verified": True}, frozenset()
)
BOB = identity.from_claims(
    {"iss": ISSUER, "sub": "b-2", "email": "bob@example.com", "email_verified": True}, frozenset()
)


@pytest.fixture
def two_sources(tmp_path, monkeypatch) -> None:
    """`finance` for Alice only, `shared` for everyone signed in; the same SQLite file behind both."""
    db = make_sqlite(tmp_path)
    declare_in_environ(monkeypatch, "finance", db.source, allow="alice@example.com")
    declare_in_environ(monkeypatch, "shared", db.source, allow="signed-in")


def test_a_run_on_a_source_the_user_may_not_use_is_refused_before_it_exists(
    two_sources, emulator, settings, data_dir
) -> None:
    base = Store(data_dir)
    alice, bob = store_for(base, ALICE), store_for(base, BOB)
    with pytest.raises(SourceNotAllowed, match="There is no SQL source `finance` that you may use"):
        jobs.new_run(bob, settings, "Salaries?", [], sources=["finance"], user=BOB)
    assert bob.runs() == []
    # a run must say who asks: the store's owner alone does not say whether they may use a source
    with pytest.raises(AppError, match="has to say who asks"):
        jobs.new_run(bob, settings, "Salaries?", [], sources=["shared"])
    assert bob.runs() == []
    # the same question from Alice runs
    emulator.queue_script([Python("print((await sql(source='finance', query='SELECT count(*) FROM orders'))['rows'])")])
    run = jobs.new_run(alice, settings, "Orders?", [], sources=["finance"], user=ALICE)
    assert jobs.wait(run.id, 60)
    assert next(i for i in items_of(alice, run.id) if isinstance(i, Output)).stdout == "[[500]]\n"
    assert data_sources.check(BOB, settings, ["shared"])[0].name == "shared"


def test_code_asking_for_another_source_gets_an_error_and_no_rows(two_sources, emulator, settings, data_dir) -> None:
    bob = store_for(Store(data_dir), BOB)
    cell = (
        "for name in ('finance', 'shared', 'nowhere'):\n"
        "    r = await sql(source=name, query='SELECT count(*) FROM orders')\n"
        "    print(name, r.get('error', {}).get('kind'), r.get('rows'))\n"
    )
    emulator.queue_script([Python(cell)])
    run = jobs.new_run(bob, settings, "Orders?", [], sources=["shared"], user=BOB)
    assert jobs.wait(run.id, 60)
    output = next(i for i in items_of(bob, run.id) if isinstance(i, Output))
    assert output.stdout.splitlines() == [
        "finance not_allowed None",  # not picked for the run (and Bob may not use it anyway)
        "shared None [[500]]",
        "nowhere not_allowed None",
    ]
    refused = [q for q in items_of(bob, run.id) if isinstance(q, Query) and q.error_kind]
    assert [q.source for q in refused] == ["finance", "nowhere"] and all(q.row_count == 0 for q in refused)


def test_the_queries_of_a_turn_run_as_the_one_who_asked_it(two_sources, settings) -> None:
    run_as = data_sources.runner_for(BOB, settings)
    from lib.sources import QueryHandle

    refused = run_as("finance", "SELECT count(*) FROM orders", QueryHandle())
    assert refused.error is not None and refused.error.kind == "not_allowed" and refused.rows == []
    # a queued turn is only run as the run's owner, whatever its request says
    kept = {"asker": data_sources.asker_dict(ALICE)}
    assert data_sources.asker_from(kept, ALICE.owner) == ALICE
    with pytest.raises(AppError, match="without the run's owner"):
        data_sources.asker_from(kept, BOB.owner)
