"""Sign-in with the identity provider named by OIDC_ISSUER: authorization code flow with PKCE.

The workbench's server does the whole exchange (discovery document, token endpoint, refresh)
with httpx; the browser only carries the provider's redirects. The resulting access token is
what the workbench sends to the API, which verifies it against the issuer's JWKS.

Settings (environment): OIDC_ISSUER, WORKBENCH_OIDC_CLIENT_ID (`agent-runtime-workbench`),
WORKBENCH_OIDC_CLIENT_SECRET (for a confidential client; none for a public one),
WORKBENCH_OIDC_SCOPES (`openid profile email`), and OIDC_AUDIENCE (sent as `audience`, which
some providers need to issue a token for the API).
"""

import base64
import hashlib
import os
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from app import api

PENDING_SECONDS = 600
CALLBACK_PATH = "/auth/callback"
REFRESH_MARGIN_SECONDS = 30


class SignInError(Exception):
    """The provider refused, or the callback is not one this workbench started."""


@dataclass
class Pending:
    verifier: str
    redirect_uri: str
    next_path: str
    created: float


_pending: dict[str, Pending] = {}
_lock = threading.Lock()
_discovery: dict[str, Any] = {}


def client_id() -> str:
    return os.environ.get("WORKBENCH_OIDC_CLIENT_ID", "agent-runtime-workbench")


def _client_auth() -> tuple[str, str] | None:
    secret = os.environ.get("WORKBENCH_OIDC_CLIENT_SECRET")
    return (client_id(), secret) if secret else None


def discovery() -> dict[str, Any]:
    issuer = (api.oidc_issuer() or "").rstrip("/")
    if not issuer:
        raise SignInError("OIDC_ISSUER is not set")
    if _discovery.get("issuer_url") != issuer:
        response = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
        response.raise_for_status()
        _discovery.clear()
        _discovery.update(response.json(), issuer_url=issuer)
    return _discovery


def challenge_of(verifier: str) -> str:
    """S256: base64url(sha256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(origin: str, next_path: str) -> str:
    """The provider's authorization URL for a new sign-in; remembers its state and verifier."""
    metadata = discovery()
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(64)
    redirect_uri = f"{origin.rstrip('/')}{CALLBACK_PATH}"
    now = time.time()
    with _lock:
        for key, pending in list(_pending.items()):
            if now - pending.created > PENDING_SECONDS:
                del _pending[key]
        _pending[state] = Pending(verifier, redirect_uri, next_path, now)
    query = {
        "response_type": "code",
        "client_id": client_id(),
        "redirect_uri": redirect_uri,
        "scope": os.environ.get("WORKBENCH_OIDC_SCOPES", "openid profile email"),
        "state": state,
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
    }
    if audience := os.environ.get("OIDC_AUDIENCE"):
        query["audience"] = audience
    return f"{metadata['authorization_endpoint']}?{urlencode(query)}"


def _token_request(form: dict[str, str]) -> dict[str, Any]:
    if _client_auth() is None:
        form = {**form, "client_id": client_id()}
    response = httpx.post(discovery()["token_endpoint"], data=form, auth=_client_auth(), timeout=15)
    try:
        answer: dict[str, Any] = response.json()
    except ValueError:
        answer = {}
    if response.is_error or "access_token" not in answer:
        reason = answer.get("error_description") or answer.get("error") or response.text[:200]
        raise SignInError(f"the identity provider refused the sign-in: {reason}")
    return answer


def _display_name(claims: dict[str, Any]) -> str:
    for name in ("email", "preferred_username", "name", "sub"):
        if claims.get(name):
            return str(claims[name])
    return "signed-in user"


def finish(state: str, code: str) -> tuple[api.Session, str]:
    """Exchange the callback's code for tokens; returns the new session and where to go next."""
    with _lock:
        pending = _pending.pop(state, None)
    if pending is None or time.time() - pending.created > PENDING_SECONDS:
        raise SignInError("this sign-in expired or was not started here; start again")
    tokens = _token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
        }
    )
    claims = api.jwt_claims(str(tokens.get("id_token", "")))
    access = str(tokens["access_token"])
    session = api.Session(
        token=access,
        method="oidc",
        user=_display_name(claims or api.jwt_claims(access)),
        refresh_token=tokens.get("refresh_token"),
        expires_at=time.time() + float(tokens["expires_in"]) if tokens.get("expires_in") else None,
    )
    return session, pending.next_path


def refresh_if_needed(session: api.Session) -> None:
    """Renew an access token about to expire with the refresh token, when there is one."""
    if session.expires_at is None or session.refresh_token is None:
        return
    if time.time() < session.expires_at - REFRESH_MARGIN_SECONDS:
        return
    tokens = _token_request({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
    session.token = str(tokens["access_token"])
    session.refresh_token = tokens.get("refresh_token", session.refresh_token)
    session.expires_at = (
        time.time() + float(tokens["expires_in"]) if tokens.get("expires_in") else None
    )
    session.reset_client()
