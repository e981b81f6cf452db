"""The signed-in session every page's state builds on: who, in which tenant, and the client."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import httpx
import reflex as rx
from reflex.event import EventSpec

from app import api
from app.view import Vocabulary, remember_vocabulary, vocabulary
from client import AgentRuntimeClient, ApiError

P = ParamSpec("P")
T = TypeVar("T")


class SignInNeededError(Exception):
    """Nobody is signed in in this browser (or their credentials stopped working)."""


@dataclass(frozen=True)
class Failure:
    """A call to the API that did not work: what to tell people, where to send them (sign-in)
    if anywhere, and why (a page may treat some answers, a 422 say, its own way)."""

    message: str
    redirect: EventSpec | None
    cause: BaseException


def path_part(path: str, index: int) -> str:
    """`/agents/agt_1/versions/2`, 1 -> `agt_1`."""
    parts = [part for part in path.split("/") if part]
    return parts[index] if len(parts) > index else ""


class SessionState(rx.State):
    """The base of every page's state: the browser's session and what the header shows."""

    session_cookie: str = rx.Cookie(
        "",
        name=api.SESSION_COOKIE,
        path="/",
        max_age=api.SESSION_SECONDS,
        same_site="strict",
    )
    signed_out: str = rx.Cookie("", name="ar_signed_out", path="/", same_site="strict")
    user: rx.Field[str] = rx.field("")
    auth_method: rx.Field[str] = rx.field("")
    tenant_name: rx.Field[str] = rx.field("")
    role: rx.Field[str] = rx.field("")
    platform_admin: rx.Field[bool] = rx.field(False)
    tenant_options: rx.Field[list[str]] = rx.field(default_factory=list)
    acting_tenant: rx.Field[str] = rx.field("")
    pending_approvals: rx.Field[int] = rx.field(0)
    # The page could not load what it shows (its error says why): show no empty content.
    failed: rx.Field[bool] = rx.field(False)
    # The API's vocabulary (`GET /v1/meta`), read once per session: what selects offer.
    run_statuses: rx.Field[list[str]] = rx.field(default_factory=list)
    model_providers: rx.Field[list[str]] = rx.field(default_factory=list)
    builtin_tools: rx.Field[list[str]] = rx.field(default_factory=list)
    http_methods: rx.Field[list[str]] = rx.field(default_factory=list)
    webhook_events: rx.Field[list[str]] = rx.field(default_factory=list)
    _limit_defaults: rx.Field[dict[str, Any]] = rx.field(default_factory=dict)

    def _show(self, session: api.Session) -> None:
        self.user = session.user
        self.auth_method = session.method
        self.tenant_name = session.acting_tenant or session.tenant_name
        self.role = session.role
        self.platform_admin = session.platform_admin
        self.acting_tenant = session.acting_tenant or session.tenant_name

    async def _start_session(self, session: api.Session) -> api.Session:
        await api.call(api.identify, session)
        if session.platform_admin:
            tenants = await api.call(session.client().list_tenants)
            self.tenant_options = sorted(t["name"] for t in tenants)
        else:
            self.tenant_options = []
        api.SESSIONS.drop(self.session_cookie)
        self.session_cookie = api.SESSIONS.create(session)
        self.signed_out = ""
        self._show(session)
        return session

    async def _session(self) -> api.Session:
        """The signed-in session; the embedded default signs in its local admin by itself."""
        session = api.SESSIONS.get(self.session_cookie)
        if session is None and api.embedded_mode() and not self.signed_out:
            key = api.read_admin_key()
            if key is not None:
                session = await self._start_session(
                    api.Session(token=key, method="local", user="local admin")
                )
        if session is None:
            raise SignInNeededError
        if session.method == "oidc":
            from app import oidc

            try:
                await api.call(oidc.refresh_if_needed, session)
            except (oidc.SignInError, httpx.HTTPError) as exc:
                api.SESSIONS.drop(self.session_cookie)
                raise SignInNeededError from exc
        self._show(session)
        if session.meta is None or not self.run_statuses:
            self._show_vocabulary(vocabulary(await api.call(api.meta, session)))
        return session

    def _show_vocabulary(self, words: Vocabulary) -> None:
        remember_vocabulary(words)
        self.run_statuses = words.run_statuses
        self.model_providers = words.providers
        self.builtin_tools = words.builtin_tools
        self.http_methods = words.http_methods
        self.webhook_events = words.webhook_events
        self._limit_defaults = words.limit_defaults

    def _me(self) -> tuple[str, str] | None:
        session = api.SESSIONS.get(self.session_cookie)
        return session.me if session is not None else None

    async def _client(self) -> AgentRuntimeClient:
        return (await self._session()).client()

    async def _api(self, method: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A client call off the event loop (use as `await self._api(client.get_run, id)`)."""
        return await api.call(method, *args, **kwargs)

    def _sign_in_redirect(self) -> EventSpec:
        path = self.router.url.path or "/"
        return rx.redirect(f"/sign-in?next={quote(path)}")

    async def _attempt(self, call: Callable[[AgentRuntimeClient], Awaitable[T]]) -> T | Failure:
        """`call` with the signed-in client; what went wrong comes back as a Failure (a lapsed
        sign-in sends the browser to sign in again)."""
        try:
            return await call(await self._client())
        except Exception as exc:
            message, redirect = self._trouble(exc)
            return Failure(message, redirect, exc)

    async def _load(self, read: Callable[[AgentRuntimeClient], Awaitable[T]]) -> T | Failure:
        """What a page shows, read with `read`; if that fails the page says why (`PageState`)
        and the handler yields the failure's redirect."""
        found = await self._attempt(read)
        self.failed = isinstance(found, Failure)
        if isinstance(found, Failure):
            self._show_failure(found)
        return found

    def _show_failure(self, failure: Failure) -> None:
        """How a page says it could not load what it shows: `PageState` has it."""
        raise NotImplementedError(f"{type(self).__name__} mixes in no PageState")

    def _trouble(self, exc: BaseException) -> tuple[str, EventSpec | None]:
        """What to tell people about a failed call, and where to send them (sign-in)."""
        if isinstance(exc, SignInNeededError):
            return "", self._sign_in_redirect()
        if isinstance(exc, ApiError) and exc.status == 401:
            api.SESSIONS.drop(self.session_cookie)
            self.session_cookie = ""
            return exc.message, self._sign_in_redirect()
        return api.describe(exc), None

    async def _refresh_pending(self, client: AgentRuntimeClient) -> None:
        try:
            pending = await api.call(client.list_approvals, status="pending")
        except Exception:
            return
        self.pending_approvals = len(pending)

    @rx.event
    async def switch_tenant(self, tenant: str) -> Any:
        """Platform admins act in another tenant (X-Tenant-Id)."""
        session = api.SESSIONS.get(self.session_cookie)
        if session is None:
            return self._sign_in_redirect()
        session.act_in(None if tenant == session.tenant_name else tenant)
        self._show(session)
        return rx.redirect("/agents")

    @rx.event
    def sign_out(self) -> Any:
        api.SESSIONS.drop(self.session_cookie)
        self.session_cookie = ""
        self.signed_out = "1"
        self.user = ""
        return rx.redirect("/sign-in")


class PageState(rx.State, mixin=True):
    """What each page's state holds of its own beside the session: whether what the page shows
    is loaded, and why not. Mixed in first: `class AgentsState(PageState, SessionState)`."""

    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")

    def _start_loading(self) -> None:
        self.loaded, self.error = False, ""

    def _show_failure(self, failure: Failure) -> None:
        self.loaded, self.error = True, failure.message

    def _outcome(
        self, found: Any, done: str, show: Callable[[Any], None] | None = None, *then: Any
    ) -> Any:
        """What an action's handler yields once the API answered `found`: a Failure's message
        in the page's error (and its sign-in redirect); else `show(found)` and a toast saying
        `done`, followed by the events `then` (a redirect away from what was deleted)."""
        if isinstance(found, Failure):
            self.error = found.message
            return found.redirect
        self.error = ""
        if show is not None:
            show(found)
        return [rx.toast.success(done), *then] if then else rx.toast.success(done)
