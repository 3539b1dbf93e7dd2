"""The Admin page (each user's month and monthly budgets), the sign-in wall with [auth], and no change without it."""

from __future__ import annotations

import time

import pytest

from lib import identity
from lib.cost import DEFAULT_PRICES
from lib.runs import budget as usage
from lib.storage.store import Store
from lib.transcript import Usage
from tests.support.apptest import ANALYZE, FILES, GALLERY, run, texts

pytestmark = pytest.mark.auth

ADMIN = "pages/4_Admin.py"
ISSUER = "https://idp.example.com"
CAROL = identity.from_claims({"iss": ISSUER, "sub": "c", "email": "carol@example.com"}, frozenset())
DAVE = identity.from_claims({"iss": ISSUER, "sub": "d", "email": "dave@example.com"}, frozenset())


def _spend(store: Store, output_tokens: int, runs: int = 1) -> None:
    for n in range(runs):
        run_ = store.create_run(f"q{n}", "claude-sonnet-4-6", "code_execution_20260521", [])
        idx = store.start_turn(run_.id, f"q{n}", [])
        store.update_turn(run_.id, idx, status="done", usage=Usage(input_tokens=1000, output_tokens=output_tokens))


def test_admin_page_shows_each_users_month_and_sets_a_monthly_budget(make_app, emulator, data_dir):
    base = Store(data_dir)
    carol, dave = identity.store_for(base, CAROL), identity.store_for(base, DAVE)
    for store, user in ((carol, CAROL), (dave, DAVE)):
        identity.welcome(store, user)
    _spend(carol, 100_000, runs=2)  # 2 × (1000 × $3 + 100k × $15) / 1M = $3.006
    _spend(dave, 10_000)
    old = dave.create_run("last year", "claude-sonnet-4-6", "code_execution_20260521", [])
    dave.start_turn(old.id, "last year", [])
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


def test_with_auth_every_page_asks_for_sign_in_first(make_app, emulator, data_dir):
    Store(data_dir).create_run("A secret question", "claude-sonnet-4-6", "code_execution_20260521", [])
    for page in (None, FILES, ANALYZE, GALLERY, ADMIN):
        at = make_app(emulator)
        at.secrets["auth"] = {
            "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
            "cookie_secret": "a-cookie-secret-of-some-length",
            "client_id": "id",
            "client_secret": "secret",
            "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
        }
        run(at)
        if page:
            at.switch_page(page)
            run(at)
        shown = "\n".join(texts(at))
        assert [b.label for b in at.button] == ["Sign in"], page
        assert at.subheader[0].value == "Sign in to continue" and "A secret question" not in shown
        assert not at.get("page_link") and not at.dataframe and not at.text_area


def test_without_auth_the_app_is_single_user_as_before(make_app, emulator, data_dir):
    Store(data_dir).create_run("My question", "claude-sonnet-4-6", "code_execution_20260521", [])
    at = run(make_app(emulator))
    labels = [b.label for b in at.button]
    assert "Sign in" not in labels and "Sign out" not in labels
    assert not any("Signed in as" in t for t in texts(at))
    assert any(p.proto.label == "My question" for p in at.get("page_link"))
