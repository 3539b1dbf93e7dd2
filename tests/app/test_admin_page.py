"""The Admin page (each user's month and monthly budgets), the sign-in wall with [auth], and no change without it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from lib import identity
from lib.cost import DEFAULT_PRICES
from lib.runs import budget as usage
from lib.storage.store import Store
from lib.storage.users import store_for, welcome
from lib.transcript import Usage
from tests.support.apptest import ANALYZE, FILES, GALLERY, run, texts

pytestmark = pytest.mark.auth

ADMIN = "pages/4_Admin.py"
ISSUER = "https://idp.example.com"
COOKIE_SECRET = "x9Hq2VfT7mKpL4sW8dZr1cYb6nGj3aEu5tQo0iXv"  # a test fixture's own value, 40 characters
CAROL = identity.from_claims({"iss": ISSUER, "sub": "c", "email": "carol@example.com"}, frozenset())
DAVE = identity.from_claims({"iss": ISSUER, "sub": "d", "email": "dave@example.com"}, frozenset())


def _spend(store: Store, output_tokens: int, runs: int = 1) -> None:
    for n in range(runs):
        run_ = store.create_run(f"q{n}", "claude-sonnet-4-6", "code_execution_20260521", [])
        idx = store.add_turn(run_.id, f"q{n}", [])
        store.update_turn(run_.id, idx, status="done", usage=Usage(input_tokens=1000, output_tokens=output_tokens))


def test_admin_page_shows_each_users_month_and_sets_a_monthly_budget(make_app, emulator, data_dir):
    base = Store(data_dir)
    carol, dave = store_for(base, CAROL), store_for(base, DAVE)
    for store, user in ((carol, CAROL), (dave, DAVE)):
        welcome(store, user)
    _spend(carol, 100_000, runs=2)  # 2 × (1000 × $3 + 100k × $15) / 1M = $3.006
    _spend(dave, 10_000)
    old = dave.create_run("last year", "claude-sonnet-4-6", "code_execution_20260521", [])
    dave.add_turn(old.id, "last year", [])
    with base.engine.begin() as db:  # a turn from long ago does not count this month
        db.exec_driver_sql(
            "UPDATE turns SET started_at=?, usage=? WHERE run_id=?",
            (time.time() - 400 * 86400, '{"output_tokens": 9999999}', old.id),
        )

    at = run(make_app(emulator))
    # without sign-in the sidebar is as it always was; the one local user may still open the page
    assert not any(p.proto.label == "Admin" for p in at.get("page_link"))
    at.switch_page(ADMIN)
    run(at)
    assert at.title[0].value == "Admin"
    table = at.dataframe[0].value
    rows = {r["user"]: r for r in table.to_dict("records")}
    assert set(rows) == {"carol@example.com", "dave@example.com"}
    assert (rows["carol@example.com"]["runs"], rows["carol@example.com"]["output tokens"]) == (2, 200_000)
    assert rows["carol@example.com"]["estimated cost"] == "$3.01"
    assert (rows["dave@example.com"]["runs"], rows["dave@example.com"]["questions"]) == (1, 1)
    assert (
        rows["dave@example.com"]["estimated cost"] == "$0.1530"
        and rows["dave@example.com"]["monthly budget"] == "No limit"
    )

    at.selectbox(key="admin_user").set_value(CAROL.owner)
    run(at)
    at.number_input(key=f"admin_budget_{CAROL.owner}").set_value(2.5)
    at.button(key="admin_budget_save").click()
    run(at)
    assert any("Monthly budget of carol@example.com: $2.50." in s.value for s in at.success)
    rows = {r["user"]: r for r in at.dataframe[0].value.to_dict("records")}
    assert rows["carol@example.com"]["monthly budget"] == "$2.50"
    assert rows["carol@example.com"]["status"] == "budget reached" and rows["dave@example.com"]["status"] == ""
    refused = usage.check_user_budget(base, CAROL.owner, DEFAULT_PRICES)
    assert refused is not None and "$3.01 of your $2.50 budget" in refused.message
    assert usage.check_user_budget(base, DAVE.owner, DEFAULT_PRICES) is None


def _on_every_page(at_for: Callable[[], AppTest]) -> Iterator[tuple[str | None, AppTest]]:
    """Each page of the app, opened in a fresh session."""
    for page in (None, FILES, ANALYZE, GALLERY, ADMIN):
        at = run(at_for())
        if page:
            at.switch_page(page)
            run(at)
        yield page, at


def _with_auth(at: AppTest, cookie_secret: str = COOKIE_SECRET) -> AppTest:
    at.secrets["auth"] = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": cookie_secret,
        "client_id": "id",
        "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
    return at


def test_with_auth_every_page_asks_for_sign_in_first(make_app, emulator, data_dir):
    Store(data_dir).create_run("A secret question", "claude-sonnet-4-6", "code_execution_20260521", [])
    for page, at in _on_every_page(lambda: _with_auth(make_app(emulator))):
        shown = "\n".join(texts(at))
        assert [b.label for b in at.button] == ["Sign in"], page
        assert at.subheader[0].value == "Sign in to continue" and "A secret question" not in shown
        assert not at.get("page_link") and not at.dataframe and not at.text_area


@pytest.mark.parametrize("cookie_secret", ["change-me-to-a-long-random-string", "too-short-0123456789"])
def test_with_the_example_or_a_short_cookie_secret_no_page_starts_sign_in(make_app, emulator, data_dir, cookie_secret):
    Store(data_dir).create_run("A secret question", "claude-sonnet-4-6", "code_execution_20260521", [])
    for page, at in _on_every_page(lambda: _with_auth(make_app(emulator), cookie_secret)):
        (error,) = at.error
        assert "Sign-in cannot start" in error.value and "forge" in error.value, page
        assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in error.value
        assert "`cookie_secret`" in error.value
        assert not at.button and not at.get("page_link") and "A secret question" not in "\n".join(texts(at))


def test_a_malformed_admin_entry_is_named_on_every_page(make_app, emulator):
    for page, at in _on_every_page(lambda: make_app(emulator, ANALYST_ADMINS="alice@example.com, bob")):
        (error,) = at.error
        assert "`bob` is neither an email" in error.value, page
        assert "Fix `ANALYST_ADMINS` in `.streamlit/secrets.toml` or the environment" in error.value


def test_without_auth_the_app_is_single_user_as_before(make_app, emulator, data_dir):
    Store(data_dir).create_run("My question", "claude-sonnet-4-6", "code_execution_20260521", [])
    at = run(make_app(emulator))
    labels = [b.label for b in at.button]
    assert "Sign in" not in labels and "Sign out" not in labels
    assert not any("Signed in as" in t for t in texts(at))
    assert any(p.proto.label == "My question" for p in at.get("page_link"))
