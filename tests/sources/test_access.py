"""Who may use which source is decided in lib: two signed-in users, an admin, and the one local user."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lib import identity
from lib.identity import User, local_user
from lib.settings import Settings, load_settings
from lib.sources import DEMO_NAME, Declared, SourceNotAllowed, load_sources, resolve, run_for, sources_for
from tests.support.sources import make_sqlite

pytestmark = pytest.mark.sources

ISSUER = "https://idp.example.com"
ALICE = User(
    owner=f"{ISSUER}#alice-sub",
    email="Alice@Example.com",
    name="Alice",
    admin=False,
    signed_in=True,
    email_verified=True,
)
BOB = User(
    owner=f"{ISSUER}#bob-sub", email="bob@example.com", name="Bob", admin=False, signed_in=True, email_verified=True
)
ADMIN = User(
    owner=f"{ISSUER}#root-sub", email="root@example.com", name="Root", admin=True, signed_in=True, email_verified=True
)


@pytest.fixture
def declared(tmp_path: Path) -> Declared:
    """Four sources on one SQLite file, each with another kind of allow list."""
    url = str(make_sqlite(tmp_path).source.url)
    found = load_sources(
        {
            "sources": {
                "finance": {"url": url, "allow": ["alice@example.com"]},
                "ops": {"url": url},  # admins only, the default
                "shared": {"url": url, "allow": "signed-in"},
            }
        },
        {"ANALYST_SOURCE_BOBS_URL": url, "ANALYST_SOURCE_BOBS_ALLOW": f"{ISSUER}#bob-sub, admins"},
    )
    assert not found.problems
    return found


@pytest.fixture
def team(tmp_path: Path) -> Settings:
    """A deployment with sign-in (no offline demo)."""
    return load_settings({}, {"ANALYST_DATA_DIR": str(tmp_path / "data")})


def names(user: User, declared: Declared, settings: Settings) -> list[str]:
    return [s.name for s in sources_for(user, declared, settings)]


def test_each_user_lists_only_the_sources_they_may_use(declared: Declared, team: Settings) -> None:
    assert names(ALICE, declared, team) == ["finance", "shared"]
    assert names(BOB, declared, team) == ["bobs", "shared"]
    assert names(ADMIN, declared, team) == ["bobs", "ops", "shared"]  # admins are not on finance's list


def test_an_email_on_the_list_counts_only_when_the_provider_verified_it(declared: Declared, team: Settings) -> None:
    unverified = dataclasses.replace(ALICE, owner=f"{ISSUER}#mallory-sub", email_verified=False)
    assert names(unverified, declared, team) == ["shared"]
    refused = run_for(unverified, declared, team, "finance", "SELECT count(*) FROM orders")
    assert refused.error is not None and refused.error.kind == "not_allowed" and refused.rows == []
    claims = {"iss": ISSUER, "sub": "alice-sub", "email": "alice@example.com"}
    assert names(identity.from_claims(claims, frozenset()), declared, team) == ["shared"]
    verified = identity.from_claims({**claims, "email_verified": True}, frozenset())
    assert names(verified, declared, team) == ["finance", "shared"]


def test_a_source_a_user_may_not_use_is_refused_in_lib(declared: Declared, team: Settings) -> None:
    finance = run_for(ALICE, declared, team, "finance", "SELECT count(*) FROM orders")
    assert finance.ok and finance.rows == [[500]]
    refused = run_for(BOB, declared, team, "finance", "SELECT count(*) FROM orders")
    assert refused.error is not None and refused.error.kind == "not_allowed" and refused.rows == []
    with pytest.raises(SourceNotAllowed) as caught:
        resolve(BOB, declared, team, "finance")
    # refused and unknown read the same, so a name reveals nothing about what exists
    with pytest.raises(SourceNotAllowed) as unknown:
        resolve(BOB, declared, team, "payroll")
    assert caught.value.message.replace("finance", "X") == unknown.value.message.replace("payroll", "X")
    assert caught.value.code == "not_allowed"
    with pytest.raises(SourceNotAllowed):
        resolve(ALICE, declared, team, "ops")
    assert resolve(BOB, declared, team, "bobs").name == "bobs"


def test_the_single_user_app_offers_every_source_and_the_demo(declared: Declared, team: Settings) -> None:
    assert names(local_user(), declared, team) == ["bobs", DEMO_NAME, "finance", "ops", "shared"]
    demo = run_for(local_user(), declared, team, DEMO_NAME, "SELECT count(*) FROM monthly_sales")
    assert demo.rows == [[576]]


def test_the_demo_source_is_offered_with_sign_in_only_in_the_offline_demo(declared: Declared, team: Settings) -> None:
    assert DEMO_NAME not in names(BOB, declared, team)
    assert run_for(BOB, declared, team, DEMO_NAME, "SELECT 1").error.kind == "not_allowed"  # type: ignore[union-attr]
    offline = team.for_demo(base_url="http://127.0.0.1:1")
    assert DEMO_NAME in names(BOB, declared, offline)
    assert (offline.data_dir / "sources").is_dir() and not (team.data_dir / "sources").exists()


def test_a_declared_source_named_demo_takes_its_place(tmp_path: Path, team: Settings) -> None:
    url = str(make_sqlite(tmp_path).source.url)
    declared = load_sources({"sources": {"demo": {"url": url, "allow": "signed-in"}}}, {})
    (only,) = sources_for(local_user(), declared, team)
    assert only.name == "demo" and not only.demo
    assert run_for(local_user(), declared, team, "demo", "SELECT count(*) FROM orders").rows == [[500]]
