"""A real OpenID Connect provider on 127.0.0.1 for the sign-in tests (Starlette + uvicorn, tokens by joserfc).

Discovery document, JWKS, an authorization endpoint whose page lets the browser pick one of the known users
(or `login_hint` picks one at once), a token endpoint with client authentication and PKCE (S256), RS256 ID
tokens carrying the nonce, and userinfo. Nothing is mocked: Streamlit's own Authlib client talks to it over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.runs import wait_for

CLIENT_ID = "analyst-test-client"
CLIENT_SECRET = "analyst-test-secret"  # a test fixture's own value, not a credential of anything


@dataclass(frozen=True)
class TestUser:
    """Someone the provider can sign in."""

    __test__ = False  # a fixture's data class, not a test class

    sub: str
    email: str
    name: str
    email_verified: bool | None = True  # None: the claim is left out, as Microsoft Entra ID does


ALICE = TestUser("alice-0001", "alice@example.com", "Alice Admin")
BOB = TestUser("bob-0002", "bob@example.com", "Bob Analyst")
# someone else who set their email to Alice's at a provider that does not verify emails (the "nOAuth" case)
MALLORY = TestUser("mallory-0003", ALICE.email, "Mallory Unverified", email_verified=None)


@dataclass
class Grant:
    """An authorization code waiting to be exchanged."""

    user: TestUser
    client_id: str
    redirect_uri: str
    nonce: str
    challenge: str
    expires: float


@dataclass
class OIDCProvider:
    """The provider, its signing key and what it has handed out."""

    users: tuple[TestUser, ...] = (ALICE, BOB, MALLORY)
    redirect_uris: set[str] = field(default_factory=set)
    port: int = 0
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "test-key-1"}))
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, TestUser] = field(default_factory=dict)
    id_tokens_issued: list[dict] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        """The issuer URL (also the base of every endpoint)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        """What `server_metadata_url` in `[auth]` points at."""
        return f"{self.issuer}/.well-known/openid-configuration"

    def owner_of(self, user: TestUser) -> str:
        """The app's owner key for a user of this provider (issuer + subject)."""
        from lib.identity import owner_id

        return owner_id(self.issuer, user.sub)

    # --- endpoints -------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != CLIENT_ID or q.get("redirect_uri") not in self.redirect_uris:
            return HTMLResponse("Unknown client or redirect URI.", status_code=400)
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return self._error_redirect(q, "unsupported_response_type")
        chosen = q.get("user") or q.get("login_hint")
        user = next((u for u in self.users if chosen in (u.sub, u.email)), None)
        if user is None:
            return self._picker(q)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            user,
            q["client_id"],
            q["redirect_uri"],
            q.get("nonce", ""),
            q.get("code_challenge", ""),
            time.time() + 60,
        )
        params = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(params)}", status_code=302)

    def _picker(self, q) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in q.items()
        )
        buttons = "".join(
            f'<button name="user" value="{html.escape(u.sub)}">Continue as {html.escape(u.name)}</button>'
            for u in self.users
        )
        return HTMLResponse(
            f"<html><body><h1>Test identity provider</h1><form method='get' action='/authorize'>"
            f"{hidden}{buttons}</form></body></html>"
        )

    def _error_redirect(self, q, error: str) -> Response:
        params = {"error": error, **({"state": q["state"]} if "state" in q else {})}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(params)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code", "")), None)
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.expires < time.time()
            or grant.redirect_uri != form.get("redirect_uri")
            or grant.client_id != client_id
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if grant.challenge:
            verifier = str(form.get("code_verifier", ""))
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != grant.challenge:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.user.sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 600,
            "nonce": grant.nonce,
            "email": grant.user.email,
            **_verified(grant.user),
            "name": grant.user.name,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        access = secrets.token_urlsafe(24)
        self.tokens[access] = grant.user
        self.id_tokens_issued.append(claims)
        return JSONResponse(
            {"access_token": access, "token_type": "Bearer", "expires_in": 600, "id_token": id_token},
            headers={"Cache-Control": "no-store"},
        )

    async def userinfo(self, request: Request) -> Response:
        user = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": user.sub, "email": user.email, **_verified(user), "name": user.name})

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> OIDCProvider:
        """Serve on a free loopback port in a background thread; returns self once it answers."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True, name="oidc-provider")
        self._thread.start()
        wait_for(lambda: self._server.started, 10, "the test OIDC provider to start")
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)


def _verified(user: TestUser) -> dict[str, bool]:
    """The `email_verified` claim as this user's provider sends it (or not at all)."""
    return {} if user.email_verified is None else {"email_verified": user.email_verified}


def auth_secrets(provider: OIDCProvider, redirect_uri: str, cookie_secret: str) -> str:
    """The `[auth]` section of secrets.toml for an app signing in with this provider."""
    return (
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
