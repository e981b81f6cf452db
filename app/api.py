"""How the workbench reaches the REST API: its settings, its sign-in sessions, the client.

Everything here runs on the workbench's server. Credentials (the local admin key, API keys,
OIDC tokens) stay in this process; the browser holds only an opaque session id (a cookie).
"""

import asyncio
import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx

from client import AgentRuntimeClient, ApiError

P = ParamSpec("P")
T = TypeVar("T")

SESSION_COOKIE = "ar_session"
SESSION_SECONDS = 7 * 24 * 3600


def api_url() -> str:
    return os.environ.get("AGENT_RUNTIME_URL", "http://127.0.0.1:8002").rstrip("/")


def data_dir() -> Path:
    return Path(os.environ.get("AGENT_RUNTIME_DATA_DIR", ".agent-runtime"))


def admin_key_file() -> Path:
    return data_dir() / "admin.key"


def read_admin_key() -> str | None:
    """The embedded default's platform admin key, read on the server (never sent anywhere)."""
    try:
        key = admin_key_file().read_text().strip()
    except OSError:
        return None
    return key or None


def oidc_issuer() -> str | None:
    return os.environ.get("OIDC_ISSUER") or None


def embedded_mode() -> bool:
    """No identity provider: the workbench signs people in as the local admin."""
    return oidc_issuer() is None


@dataclass
class Session:
    """One signed-in browser: whose token, acting in which tenant, and what we know of them."""

    token: str
    method: str  # "local", "api_key" or "oidc"
    user: str
    subject: str = ""  # as the API records it (`created_by`, `decided_by`)
    tenant_id: str = ""
    tenant_name: str = ""
    role: str = ""
    platform_admin: bool = False
    acting_tenant: str | None = None  # platform admins: X-Tenant-Id
    refresh_token: str | None = None
    expires_at: float | None = None
    meta: dict[str, Any] | None = None  # the API's vocabulary, once read (see `meta`)
    created_at: float = field(default_factory=time.time)
    _client: AgentRuntimeClient | None = field(default=None, repr=False)

    def client(self) -> AgentRuntimeClient:
        if self._client is None:
            self._client = AgentRuntimeClient(api_url(), self.token, tenant=self.acting_tenant)
        return self._client

    @property
    def me(self) -> tuple[str, str]:
        return self.subject, self.user

    def act_in(self, tenant: str | None) -> None:
        self.acting_tenant = tenant
        self.reset_client()

    def reset_client(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None


class SessionStore:
    """Sessions by id, in this process: a restarted workbench asks people to sign in again."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def create(self, session: Session) -> str:
        self._expire()
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = session
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is not None and time.time() - session.created_at > SESSION_SECONDS:
            self.drop(session_id)
            return None
        return session

    def drop(self, session_id: str | None) -> None:
        session = self._sessions.pop(session_id or "", None)
        if session is not None:
            session.reset_client()

    def _expire(self) -> None:
        now = time.time()
        for session_id, session in list(self._sessions.items()):
            if now - session.created_at > SESSION_SECONDS:
                self.drop(session_id)


SESSIONS = SessionStore()


async def call(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a (blocking) client call off the event loop."""
    return await asyncio.to_thread(function, *args, **kwargs)


def describe(exc: BaseException) -> str:
    """A sentence for people, from what went wrong talking to the API."""
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, httpx.TransportError):
        return f"The API at {api_url()} cannot be reached ({type(exc).__name__})."
    return f"{type(exc).__name__}: {exc}"


def field_errors(exc: ApiError) -> dict[str, str]:
    """A 422's messages by field (`limits.max_steps`, `tools.0.parameters`, ...)."""
    errors: dict[str, str] = {}
    if isinstance(exc.details, list):
        for detail in exc.details:
            if isinstance(detail, dict) and "field" in detail:
                name = str(detail["field"])
                message = str(detail.get("message", "invalid"))
                errors[name] = f"{errors[name]}; {message}" if name in errors else message
    return errors


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, NOT verified: only to show who is signed in (the API verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def identify(session: Session) -> None:
    """Fill in who the session is from the API's own answer (`GET /v1/me`)."""
    me = session.client().me()
    session.subject = str(me["subject"])
    session.tenant_id, session.tenant_name = str(me["tenant_id"]), str(me["tenant_name"])
    session.role = str(me["role"])
    session.platform_admin = bool(me["platform_admin"])
    # An API key is shown by its name; the local admin and an OIDC sign-in keep theirs.
    if session.method == "api_key" or not session.user:
        session.user = str(me["display_name"])


def meta(session: Session) -> dict[str, Any]:
    """The API's vocabulary (`GET /v1/meta`): asked once per session, then remembered."""
    if session.meta is None:
        session.meta = session.client().meta()
    return session.meta
