"""Who is using the app: the signed-in user from their OIDC claims, or the one local user without sign-in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lib.errors import AppError

LOCAL_OWNER = "local"  # the one user of an app without sign-in; data made then is claimed later


@dataclass(frozen=True)
class User:
    """The person a page is drawn for; `owner` is what their data is stored under."""

    owner: str
    email: str
    name: str
    admin: bool
    signed_in: bool  # False: the app runs without sign-in, as its one local user
    email_verified: bool = False  # the provider vouched for the email: only then does it grant anything

    @property
    def label(self) -> str:
        """How to name them on a page."""
        return self.email or self.name or self.owner


def local_user() -> User:
    """The single user of an app without sign-in: owns everything and may see the admin page."""
    return User(owner=LOCAL_OWNER, email="", name="", admin=True, signed_in=False)


def owner_id(issuer: str, subject: str) -> str:
    """The stable key of a signed-in user: issuer and subject (emails can change or be reused)."""
    return f"{issuer.rstrip('/')}#{subject}"


_ISSUER = re.compile(r"https?://[^\s/#]+(/[^\s#]*)?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def admin_list(text: str) -> frozenset[str]:
    """The admins named in ANALYST_ADMINS (comma-separated): emails, lower-cased, and sign-in ids
    (`<issuer>#<subject>`, as the sidebar shows them); raises ValueError naming the first entry that is neither."""
    admins = set()
    for entry in (e.strip() for e in text.split(",")):
        issuer, hash_, subject = entry.partition("#")
        if hash_ and _ISSUER.fullmatch(issuer) and subject and not any(ch.isspace() for ch in subject):
            admins.add(owner_id(issuer, subject))
        elif not hash_ and _EMAIL.fullmatch(entry):
            admins.add(entry.lower())
        elif entry:
            raise ValueError(
                f"`{entry}` is neither an email (`you@example.com`) nor a sign-in id (`<issuer>#<subject>`, "
                "such as `https://login.microsoftonline.com/<tenant-id>/v2.0#<subject>`)"
            )
    return frozenset(admins)


def email_verified(claims: Mapping[str, Any]) -> bool:
    """Whether the provider says it verified the email: a real `true`, or the string "true" some providers
    send. A token without the claim does not count: Microsoft Entra ID, for one, never sends it."""
    value = claims.get("email_verified")
    return value is True or value == "true"


def from_claims(claims: Mapping[str, Any], admins: frozenset[str]) -> User:
    """A signed-in user from their ID token claims (as Streamlit keeps them in st.user).

    Admin rights come from the sign-in id listed in `admins`, or from an email listed there that the provider
    verified; an email alone proves nothing, since with some providers users can set it to anything."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ValueError("The sign-in provider sent no subject (`sub`) for this user.")
    issuer = str(claims.get("iss") or claims.get("provider") or "oidc")
    owner = owner_id(issuer, subject)
    email = str(claims.get("email") or "")
    verified = bool(email) and email_verified(claims)
    return User(
        owner=owner,
        email=email,
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
        admin=owner in admins or (verified and email.lower() in admins),
        signed_in=True,
        email_verified=verified,
    )


MIN_COOKIE_SECRET = 32
# the placeholders the README and .streamlit/secrets.toml.example show: public, so anyone could sign cookies with them
EXAMPLE_COOKIE_SECRETS = frozenset({"change-me-to-a-long-random-string", "a long random string"})
MAKE_COOKIE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def cookie_secret_problem(section: Mapping[str, Any]) -> AppError | None:
    """Why the `[auth]` section's cookie_secret cannot be trusted to sign sessions, or None when it can."""
    secret = str(section.get("cookie_secret") or "").strip()
    if not secret:
        why = "The `[auth]` section of `.streamlit/secrets.toml` has no `cookie_secret`, which signs every session."
    elif secret in EXAMPLE_COOKIE_SECRETS:
        why = (
            "The `cookie_secret` in the `[auth]` section of `.streamlit/secrets.toml` is the example's, so anyone "
            "who has read the example could forge a signed-in session."
        )
    elif len(secret) < MIN_COOKIE_SECRET:
        why = (
            f"The `cookie_secret` in the `[auth]` section of `.streamlit/secrets.toml` is {len(secret)} characters "
            f"long, too short to keep signed-in sessions from being forged (at least {MIN_COOKIE_SECRET})."
        )
    else:
        return None
    return AppError(
        "Sign-in cannot start",
        why,
        f"Generate one with `{MAKE_COOKIE_SECRET}`, set it as `cookie_secret`, then restart the app.",
        code="cookie_secret",
    )
