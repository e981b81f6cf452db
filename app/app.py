"""The workbench's Reflex app: its pages, and the downloads it relays from the API.

Downloads (artifacts, large step payloads) need the caller's credentials, which never reach the
browser: `/files/v1/runs/...` finds the browser's session by its cookie and fetches through the
REST client on the server.
"""

from typing import Any
from urllib.parse import quote

import reflex as rx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import api
from app.pages.agent import AgentState, agent_page
from app.pages.agents import AgentsState, agents_page
from app.pages.approvals import ApprovalsState, approvals_page
from app.pages.dashboard import DashboardState, dashboard_page
from app.pages.diff import DiffState, diff_page
from app.pages.editor_page import EditorState, editor_page
from app.pages.run import RunState, run_page
from app.pages.runs import RunsState, runs_page
from app.pages.schedule import ScheduleState, schedule_page
from app.pages.schedules import SchedulesState, schedules_page
from app.pages.settings import SettingsState, settings_page
from app.pages.signin import CallbackState, SignInState, callback_page, sign_in_page
from app.pages.thread import ThreadState, thread_page
from app.pages.threads import ThreadsState, threads_page
from app.pages.version import VersionState, version_page
from app.pages.webhook import WebhookState, webhook_page
from app.pages.webhooks import WebhooksState, webhooks_page
from client import ApiError


async def relay_download(request: Request) -> Response:
    session = api.SESSIONS.get(request.cookies.get(api.SESSION_COOKIE))
    if session is None:
        return JSONResponse({"error": "sign in to the workbench first"}, status_code=401)
    path = "/" + request.path_params["path"]
    try:
        content, content_type = await api.call(session.client().download, quote(path))
    except ApiError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    name = path.rsplit("/", 1)[-1]
    return Response(
        content,
        media_type=content_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


relay = Starlette(routes=[Route("/files/{path:path}", relay_download)])

STYLE: dict[Any, Any] = {
    "@keyframes pulse": {"0%, 100%": {"opacity": "1"}, "50%": {"opacity": "0.3"}},
    ".pulse": {"animation": "pulse 1.4s ease-in-out infinite"},
    "@keyframes blink": {"50%": {"opacity": "0"}},
    ".cursor": {"animation": "blink 1s step-end infinite", "color": "var(--accent-9)"},
}

app = rx.App(
    style=STYLE,
    api_transformer=relay,
    head_components=[rx.el.link(rel="icon", href="data:,")],
)
PAGES = [
    (sign_in_page, "/sign-in", SignInState.load, "Sign in"),
    (callback_page, "/auth/callback", CallbackState.load, "Signing in"),
    (dashboard_page, "/dashboard", DashboardState.load, "Dashboard"),
    (agents_page, "/agents", AgentsState.load, "Agents"),
    (agent_page, "/agents/[agent_id]", AgentState.load, "Agent"),
    (version_page, "/agents/[agent_id]/versions/[number]", VersionState.load, "Version"),
    (editor_page, "/agents/[agent_id]/new-version", EditorState.load, "New version"),
    (diff_page, "/agents/[agent_id]/diff", DiffState.load, "Compare versions"),
    (runs_page, "/runs", RunsState.load, "Runs"),
    (run_page, "/runs/[run_id]", RunState.load, "Run"),
    (threads_page, "/threads", ThreadsState.load, "Threads"),
    (thread_page, "/threads/[thread_id]", ThreadState.load, "Chat"),
    (schedules_page, "/schedules", SchedulesState.load, "Schedules"),
    (schedule_page, "/schedules/[schedule_id]", ScheduleState.load, "Schedule"),
    (webhooks_page, "/webhooks", WebhooksState.load, "Webhooks"),
    (webhook_page, "/webhooks/[webhook_id]", WebhookState.load, "Webhook"),
    (approvals_page, "/approvals", ApprovalsState.load, "Approvals"),
    (settings_page, "/settings", SettingsState.load, "Settings"),
]
app.add_page(rx.fragment, route="/", on_load=rx.redirect("/agents"), title="Agent Runtime")
for page, route, on_load, title in PAGES:
    app.add_page(page, route=route, on_load=on_load, title=f"{title} · Agent Runtime")
