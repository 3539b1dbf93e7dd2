"""Who is an admin: a verified email or a sign-in id listed in ANALYST_ADMINS; and a cookie secret fit to sign."""

from __future__ import annotations

import re
import secrets
import tomllib
from pathlib import Path

import pytest

from lib import identity
from lib.settings import SettingsError, load_settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".streamlit" / "secrets.toml.example"
ISSUER = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
ADMINS = load_settings(
    {}, {"ANALYST_ADMINS": f"Alice@Example.com, {ISSUER}#AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"}
)


def user(**claims):
    return identity.from_claims({"iss": ISSUER, "sub": "someone", **claims}, ADMINS.admins)


def test_a_token_without_email_verified_is_no_admin():
    # Entra ID sends no email_verified, and lets a user's email be set to anything
    assert not user(email="alice@example.com").admin


@pytest.mark.parametrize("value", [False, "false", "True", 1, "yes", None, "", [True]])
def test_an_email_the_provider_did_not_verify_is_no_admin(value):
    assert not user(email="alice@example.com", email_verified=value).admin


@pytest.mark.parametrize("value", [True, "true"])
def test_a_verified_email_listed_is_admin(value):
    assert user(email="ALICE@example.com", email_verified=value).admin
    assert not user(email="bob@example.com", email_verified=value).admin


def test_a_subject_listed_is_admin_whatever_the_email():
    sub = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    assert user(sub=sub).admin
    assert user(sub=sub, email="mallory@example.com", email_verified=False).admin
    assert identity.from_claims({"iss": ISSUER + "/", "sub": sub}, ADMINS.admins).admin, "a trailing / is the same"
    # the same subject from another issuer is someone else
    assert not identity.from_claims({"iss": "https://accounts.google.com", "sub": sub}, ADMINS.admins).admin


def test_admins_lists_emails_and_sign_in_ids():
    assert identity.admin_list(" a@Example.com ,, https://idp.example.com/#42 ,") == {
        "a@example.com",
        "https://idp.example.com#42",
    }
    for bad in ("alice", "https://idp.example.com#", "idp.example.com#42", "https://idp.example.com#4 2", "a@b@c"):
        with pytest.raises(ValueError, match=re.escape(f"`{bad}`")):
            identity.admin_list(f"ok@example.com, {bad}")


def test_a_malformed_admin_entry_is_named_with_where_to_fix_it():
    with pytest.raises(SettingsError) as caught:
        load_settings({}, {"ANALYST_ADMINS": "ops@example.com; alice@example.com"})
    err = caught.value
    assert "`ops@example.com; alice@example.com` is neither an email" in err.message
    assert "Fix `ANALYST_ADMINS` in `.streamlit/secrets.toml` or the environment" in err.hint
    assert "commas" in err.hint


def _example_cookie_secret() -> str:
    line = next(line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if "cookie_secret =" in line)
    return tomllib.loads(line.lstrip("# "))["cookie_secret"]


def test_the_example_or_a_short_cookie_secret_is_refused_and_a_generated_one_accepted():
    for secret in (_example_cookie_secret(), "a long random string", "x" * 31, "", None):
        problem = identity.cookie_secret_problem({"cookie_secret": secret, "client_id": "id"})
        assert problem is not None, secret
        assert "secrets.token_urlsafe(48)" in problem.hint
    assert "the example's" in identity.cookie_secret_problem({"cookie_secret": _example_cookie_secret()}).message
    assert identity.cookie_secret_problem({"cookie_secret": secrets.token_urlsafe(48)}) is None
