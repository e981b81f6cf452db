"""Sign-in: the identity provider (OIDC_ISSUER), the local admin (embedded default), an API key."""

from typing import Any

import reflex as rx

from app import api
from app.components import error_callout
from app.state import SessionState
from client import ApiError


def safe_next(path: str | None) -> str:
    """Only paths of this site (no open redirect to another one)."""
    path = path or ""
    return path if path.startswith("/") and not path.startswith("//") else "/agents"


class SignInState(SessionState):
    oidc_enabled: rx.Field[bool] = rx.field(False)
    issuer: rx.Field[str] = rx.field("")
    local_available: rx.Field[bool] = rx.field(False)
    next_path: rx.Field[str] = rx.field("/agents")
    error: rx.Field[str] = rx.field("")
    busy: rx.Field[bool] = rx.field(False)

    @rx.event
    async def load(self) -> Any:
        query = self.router.url.query_parameters
        self.next_path = safe_next(query.get("next"))
        self.error = query.get("error", "")
        self.oidc_enabled = not api.embedded_mode()
        self.issuer = api.oidc_issuer() or ""
        self.local_available = api.embedded_mode() and api.read_admin_key() is not None
        if api.SESSIONS.get(self.session_cookie) is not None:
            return rx.redirect(self.next_path)
        if api.embedded_mode() and not self.signed_out and self.local_available:
            return await self.continue_local()
        return None

    @rx.event
    async def continue_local(self) -> Any:
        key = api.read_admin_key() if api.embedded_mode() else None
        if key is None:
            self.error = f"No local admin key in {api.admin_key_file()}."
            return None
        try:
            await self._start_session(api.Session(token=key, method="local", user="local admin"))
        except Exception as exc:
            self.error = api.describe(exc)
            return None
        return rx.redirect(self.next_path)

    @rx.event
    async def sign_in_with_key(self, form: dict[str, Any]) -> Any:
        token = str(form.get("api_key", "")).strip()
        if not token:
            self.error = "Paste an API key (ark_...)."
            return
        self.busy = True
        yield
        try:
            label = f"API key {token[:10]}…"
            await self._start_session(api.Session(token=token, method="api_key", user=label))
        except ApiError as exc:
            self.error = (
                "That API key is not valid (or it was revoked)."
                if exc.status == 401
                else exc.message
            )
            return
        except Exception as exc:
            self.error = api.describe(exc)
            return
        finally:
            self.busy = False
        yield rx.redirect(self.next_path)

    @rx.event
    def sign_in_oidc(self) -> Any:
        from app import oidc

        try:
            url = oidc.start(self.router.url.origin, self.next_path)
        except Exception as exc:
            self.error = f"The identity provider is not reachable: {api.describe(exc)}"
            return None
        return rx.redirect(url)


class CallbackState(SessionState):
    """Where the identity provider sends the browser back with a code."""

    error: rx.Field[str] = rx.field("")

    @rx.event
    async def load(self) -> Any:
        from app import oidc

        query = self.router.url.query_parameters
        if query.get("error"):
            reason = query.get("error_description") or query["error"]
            self.error = f"The identity provider did not sign you in: {reason}"
            return None
        try:
            session, next_path = await api.call(
                oidc.finish, query.get("state", ""), query.get("code", "")
            )
            await self._start_session(session)
        except Exception as exc:
            self.error = api.describe(exc)
            return None
        return rx.redirect(safe_next(next_path), replace=True)


def callback_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.cond(
                CallbackState.error != "",
                rx.vstack(
                    rx.callout(CallbackState.error, icon="triangle-alert", color_scheme="red"),
                    rx.link(rx.button("Back to sign-in"), href="/sign-in"),
                    spacing="3",
                ),
                rx.hstack(rx.spinner(), rx.text("Signing you in…"), align="center"),
            ),
            size="4",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )


def sign_in_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(
                        rx.icon("workflow", size=22, color="white"),
                        width="40px",
                        height="40px",
                        border_radius="10px",
                        background=rx.color("accent", 9),
                    ),
                    rx.vstack(
                        rx.heading("Sign in to Agent Runtime", size="5"),
                        rx.text("Author, run and watch agents.", size="2", color_scheme="gray"),
                        spacing="0",
                    ),
                    align="center",
                ),
                error_callout(SignInState.error, id="sign-in-error"),
                rx.cond(
                    SignInState.oidc_enabled,
                    rx.button(
                        rx.icon("log-in", size=16),
                        "Sign in with your identity provider",
                        on_click=SignInState.sign_in_oidc,
                        size="3",
                        width="100%",
                        id="sign-in-oidc",
                    ),
                ),
                rx.cond(
                    SignInState.local_available,
                    rx.button(
                        rx.icon("user-round-check", size=16),
                        "Continue as the local admin",
                        on_click=SignInState.continue_local,
                        size="3",
                        width="100%",
                        id="sign-in-local",
                    ),
                ),
                rx.cond(
                    SignInState.oidc_enabled | SignInState.local_available,
                    rx.hstack(
                        rx.separator(size="4"),
                        rx.text("or", size="1", color_scheme="gray"),
                        rx.separator(size="4"),
                        align="center",
                        width="100%",
                    ),
                ),
                rx.form(
                    rx.vstack(
                        rx.text("Sign in with an API key", size="2", weight="medium"),
                        rx.input(
                            name="api_key",
                            type="password",
                            placeholder="ark_…",
                            size="3",
                            width="100%",
                            auto_complete="off",
                            id="api-key-input",
                        ),
                        rx.button(
                            "Sign in with the key",
                            type="submit",
                            variant="soft",
                            size="3",
                            width="100%",
                            loading=SignInState.busy,
                            id="sign-in-key",
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=SignInState.sign_in_with_key,
                    reset_on_submit=True,
                    width="100%",
                ),
                rx.text(
                    "The key stays on the workbench's server; this browser only keeps a session.",
                    size="1",
                    color_scheme="gray",
                ),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="100%",
            max_width="420px",
            id="sign-in-card",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )
