"""Who is using the app: the signed-in user from their OIDC claims, or the one local user without sign-in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LOCAL_OWNER = "local"  # the one user of an app without sign-in; data made then is claimed later


@dataclass(frozen=True)
class User:
    """The person a page is drawn for; `owner` is what their data is stored under."""

    owner: str
    email: str
    name: str
    admin: bool
    signed_in: bool  # False: the app runs without sign-in, as its one local user

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


def from_claims(claims: Mapping[str, Any], admins: frozenset[str]) -> User:
    """A signed-in user from their ID token claims (as Streamlit keeps them in st.user)."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise ValueError("The sign-in provider sent no subject (`sub`) for this user.")
    issuer = str(claims.get("iss") or claims.get("provider") or "oidc")
    email = str(claims.get("email") or "")
    verified = claims.get("email_verified", True) not in (False, "false")
    return User(
        owner=owner_id(issuer, subject),
        email=email,
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
        admin=bool(email) and verified and email.lower() in admins,
        signed_in=True,
    )
