"""What the LangGraph-compatible routes share: reading runs for the caller's tenant, starting
or resuming a run from a LangGraph request, and streaming it as LangGraph's SDK parses it."""

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from anyio import to_thread
from fastapi import Request
from sqlmodel import Session
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Message

from backend.auth import Principal
from backend.errors import invalid
from backend.routes.run_actions import add_thread_run, cancel_abandoned, deliver_decision
from backend.services import threads as our_threads
from backend.services.langgraph import runs as service
from backend.services.langgraph.models import RunRequest
from backend.services.langgraph.stream import StreamSubject
from backend.services.langgraph.streaming import PartId, Reader, parts
from backend.services.run_follow import CREDENTIAL_ENDED, Sources, open_follower
from backend.settings import Settings
from core.models import Run, ThreadCreate

DEFAULT_MODES = ("values",)
# A stateless run's thread (`on_completion: delete`, the default) is deleted this long after
# the run ends, by the periodic thread sweep: long enough to read the run back.
STATELESS_TTL_SECONDS = 300


def reader(request: Request, principal: Principal) -> Reader:
    return Reader(request.app.state.engine, request.app.state.object_store, principal.tenant_id)


def modes_of(requested: str | Sequence[str] | None) -> frozenset[str]:
    """The stream modes asked for; `values` if none."""
    if isinstance(requested, str):
        return frozenset([requested])
    return frozenset(requested or DEFAULT_MODES)


@dataclass
class Begun:
    """The run a request started or resumed, and the event its stream starts after."""

    run: Run
    thread_id: str
    after_event: int = 0


def begin(
    request: Request,
    session: Session,
    principal: Principal,
    settings: Settings,
    thread_id: str | None,
    body: RunRequest,
) -> Begun:
    """Start the run a LangGraph request asks for (a stateless one gets a thread of its own),
    or resume the thread's interrupt with its `command`."""
    try:
        if body.command is not None:
            if thread_id is None:
                raise invalid("command", "body", "a command resumes a thread's run")
            resumed = service.resume(
                session, thread_id, body, principal.subject, principal.display_name or None
            )
            deliver_decision(request, principal.tenant_id, resumed.approval, resumed.events)
            return Begun(resumed.run, thread_id, resumed.after_event)
        run_body = service.thread_run(body)  # checked before any thread is made for it
        if thread_id is None:
            ttl = None if body.on_completion == "keep" else STATELESS_TTL_SECONDS
            thread_id = _new_thread(session, principal, ThreadCreate(ttl_seconds=ttl))
        elif body.if_not_exists == "create":
            _new_thread(session, principal, ThreadCreate(thread_id=thread_id, if_exists="return"))
        run = add_thread_run(
            request, session, principal, thread_id, run_body, settings.run_steps_per_execution
        )
        return Begun(run, thread_id)
    finally:
        session.close()  # a stream may last long: hold no connection meanwhile


def _new_thread(session: Session, principal: Principal, body: ThreadCreate) -> str:
    thread, _created = our_threads.create_thread(
        session, body, principal.subject, principal.display_name or None
    )
    return thread.id


def run_path(settings: Settings, thread_id: str, run_id: str) -> str:
    return (
        f"{settings.langgraph_api_prefix}/threads/{quote(thread_id, safe='')}"
        f"/runs/{quote(run_id, safe='')}"
    )


async def stream_response(
    request: Request,
    principal: Principal,
    settings: Settings,
    sources: Sources,
    begun: Begun,
    modes: frozenset[str],
    resume_after: PartId | None = None,
    cancel_on_disconnect: bool = False,
) -> EventSourceResponse:
    """The run's stream: `Content-Location` names the run, `Location` the stream to reconnect
    to (with `Last-Event-ID`; the SDK does so by itself)."""
    run = begun.run
    follower = await open_follower(sources, principal, run.id)
    subject = StreamSubject(run.id, begun.thread_id, run.agent_id, modes)
    finished = False

    async def body() -> AsyncIterator[ServerSentEvent]:
        nonlocal finished
        async for part_id, name, data in parts(
            follower, reader(request, principal), subject, begun.after_event, resume_after
        ):
            payload = json.dumps(data, separators=(",", ":"), default=str)
            yield ServerSentEvent(data=payload, event=name, id=str(part_id))
        finished = True
        if follower.credential_ended:
            yield ServerSentEvent(comment=CREDENTIAL_ENDED)

    async def client_left(_message: Message) -> None:
        if cancel_on_disconnect and not finished:
            await to_thread.run_sync(cancel_abandoned, request, principal.tenant_id, run.id)

    path = run_path(settings, begun.thread_id, run.id)
    query = [("stream_mode", mode) for mode in sorted(modes)]
    if begun.after_event:
        query.append(("after", str(begun.after_event)))
    location = f"{str(request.base_url).rstrip('/')}{path}/stream?{urlencode(query)}"
    return EventSourceResponse(
        body(),
        ping=sources.heartbeat,
        headers={"Location": location, "Content-Location": path},
        client_close_handler_callable=client_left,
    )
