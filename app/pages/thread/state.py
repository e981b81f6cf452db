"""The chat view's state: the thread's conversation, the run under way, and what people send.

The conversation is the thread's state and history (`GET /v1/threads/{id}/state`, `/history`),
read again whenever a step of the run under way ends and when the run ends. The run under way
is followed as the run page follows a run: its event stream, from a background event, folded
by `client.run_state`; that gives the streamed text and the approvals asked for. On load, a
thread with an active run is followed again, so a reload mid-run loses nothing.
"""

from typing import Any

import reflex as rx

from app import api, live
from app.components import ApprovalDrafts, decision_toast, submit_decision
from app.state import Failure, PageState, SessionState, path_part
from app.view import (
    ACTIVE,
    WRITER,
    ApprovalView,
    ChatRow,
    agent_pairs,
    approval_row,
    chat_rows,
    error_text,
    may,
    metadata_text,
    thread_agent,
    version_choices,
    version_wanted,
)
from client import AgentRuntimeClient, run_state

# Events after which the conversation has more to show: a step's messages, an approval.
REREAD_AFTER = frozenset({"step.completed", "approval.requested", "approval.decided"})
# A thread, its conversation and its history, as the REST API answers them.
Conversation = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]


class ThreadState(PageState, ApprovalDrafts, SessionState):
    thread_id: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    metadata: rx.Field[str] = rx.field("")
    rows: rx.Field[list[ChatRow]] = rx.field(default_factory=list)
    agent_id: rx.Field[str] = rx.field("")
    # [agent id, name] pairs, by name.
    agent_choices: rx.Field[list[list[str]]] = rx.field(default_factory=list)
    version_choice: rx.Field[str] = rx.field("latest")
    version_options: rx.Field[list[str]] = rx.field(default_factory=lambda: ["latest"])
    draft: rx.Field[str] = rx.field("")
    sending: rx.Field[bool] = rx.field(False)
    send_error: rx.Field[str] = rx.field("")
    # The run under way (or waiting for a person), as its events tell it.
    run_id: rx.Field[str] = rx.field("")
    run_status: rx.Field[str] = rx.field("")
    run_error: rx.Field[str] = rx.field("")
    live: rx.Field[bool] = rx.field(False)
    live_note: rx.Field[str] = rx.field("")
    live_text: rx.Field[str] = rx.field("")
    approvals: rx.Field[list[ApprovalView]] = rx.field(default_factory=list)
    cancelling: rx.Field[bool] = rx.field(False)
    _fold: run_state.RunState = rx.field(default_factory=run_state.RunState, is_var=False)
    _generation: rx.Field[int] = rx.field(0)

    @rx.var
    def active(self) -> bool:
        return self.run_status in ACTIVE

    @rx.var
    def pending(self) -> list[ApprovalView]:
        return [a for a in self.approvals if a.status == "pending"]

    @rx.var
    def may_write(self) -> bool:
        """Whether the caller may send, decide and cancel (a viewer only reads)."""
        return may(self.role, WRITER, self.platform_admin)

    @rx.var
    def agent_labels(self) -> list[str]:
        return [label for _, label in self.agent_choices]

    @rx.var
    def agent_label(self) -> str:
        return next((label for value, label in self.agent_choices if value == self.agent_id), "")

    # Loading and following -------------------------------------------------------------------
    @rx.event
    async def load(self) -> Any:
        self.thread_id = path_part(self.router.url.path, 1)
        wanted = str(self.router.url.query_parameters.get("version") or "latest")
        self._generation += 1
        self._fold = run_state.RunState()
        self._start_loading()
        self.rows, self.approvals, self.decide_errors = [], [], {}
        self.run_id, self.run_status, self.run_error, self.live_text = "", "", "", ""
        self.live, self.live_note, self.cancelling, self.send_error = False, "", False, ""
        yield
        thread_id = self.thread_id

        async def read(client: AgentRuntimeClient) -> tuple[Conversation, list[dict[str, Any]]]:
            conversation = await self._conversation(client, thread_id)
            agents = await self._api(client.list_agents)
            await self._refresh_pending(client)
            return conversation, agents

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        conversation, agents = found
        self.agent_choices = agent_pairs(agents)
        self.agent_id = thread_agent(conversation[0], agents)
        self._show_conversation(*conversation)
        self.version_choice = wanted
        await self._read_versions()
        self.loaded = True
        active = conversation[0].get("active_run_id")
        if active:
            failure = await self._watch(str(active))
            if failure is not None:
                yield failure.redirect
                return
            yield ThreadState.follow

    async def _conversation(self, client: AgentRuntimeClient, thread_id: str) -> Conversation:
        thread = await api.call(client.get_thread, thread_id)
        state = await api.call(client.thread_state, thread_id)
        history = await api.call(client.thread_history, thread_id)
        return thread, state, history

    def _show_conversation(
        self, thread: dict[str, Any], state: dict[str, Any], history: list[dict[str, Any]]
    ) -> None:
        self.status = str(thread.get("status") or state.get("status") or "")
        self.metadata = metadata_text(thread.get("metadata"))
        self.rows = chat_rows(state, history)

    async def _read_versions(self) -> None:
        """The chosen agent's versions for the select; a choice it lacks becomes `latest`."""
        if not self.agent_id:
            self.version_options, self.version_choice = ["latest"], "latest"
            return
        agent_id = self.agent_id
        versions = await self._attempt(lambda client: self._api(client.list_versions, agent_id))
        numbers = [] if isinstance(versions, Failure) else [int(v["number"]) for v in versions]
        self.version_options = version_choices(numbers)
        if self.version_choice not in self.version_options:
            self.version_choice = "latest"

    async def _watch(self, run_id: str) -> Failure | None:
        """Show the thread's run `run_id` from its record (then `follow` its events)."""

        async def read(client: AgentRuntimeClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            run = await self._api(client.get_run, run_id)
            return run, await self._api(client.list_approvals, run_id=run_id)

        found = await self._attempt(read)
        if isinstance(found, Failure):
            self.live_note = found.message
            return found
        run, approvals = found
        self.run_id = run_id
        self._fold = run_state.RunState()
        self._fold.seed(run=run, approvals=approvals)
        self._show_run()
        return None

    def _show_run(self) -> None:
        fold = self._fold
        self.run_status = fold.status
        self.run_error = error_text(fold.error)
        streaming = fold.streaming
        self.live_text = streaming.text if streaming else ""
        names, me = dict(self.agent_choices), self._me()
        self.approvals = [approval_row(a, names, me) for a in fold.pending]

    @rx.event(background=True)
    async def follow(self) -> None:
        """Follow the run's events until it ends, the page changes, or the browser leaves;
        re-read the conversation when a step ends and once the run has ended."""
        async with self:
            run_id, thread_id, generation = self.run_id, self.thread_id, self._generation
            session = api.SESSIONS.get(self.session_cookie)
            if session is None or self.run_status not in ACTIVE or self.live:
                return
            self.live, self.live_note = True, ""
            after = self._fold.last_event_id
        client = session.client()
        batches = live.event_batches(client, run_id, after)
        try:
            async for batch in batches:
                async with self:
                    if self._generation != generation:
                        return
                    for event in batch.events:
                        if event["type"] == "workbench.error":
                            self.live_note = f"Live updates stopped: {event.get('message')}"
                        else:
                            self._fold.apply(event)
                    self._show_run()
                if batch.last or any(event["type"] in REREAD_AFTER for event in batch.events):
                    await self._reread(client, thread_id, run_id, generation)
        finally:
            await batches.aclose()  # stops following at once, however the loop was left
            try:
                async with self:
                    if self._generation == generation:
                        self.live, self.cancelling = False, False
            except Exception:  # noqa: S110  (the browser may be gone)
                pass

    async def _reread(
        self, client: AgentRuntimeClient, thread_id: str, run_id: str, generation: int
    ) -> None:
        """The conversation again, and the run's approvals as the REST API lists them."""
        try:
            conversation = await self._conversation(client, thread_id)
            approvals = await api.call(client.list_approvals, run_id=run_id)
        except Exception as exc:
            async with self:
                self.live_note = api.describe(exc)
            return
        async with self:
            if self._generation != generation:
                return
            self._show_conversation(*conversation)
            self._fold.seed(approvals=approvals)
            self._show_run()
            await self._refresh_pending(client)

    # Actions ------------------------------------------------------------------------------------
    @rx.event
    def set_draft(self, value: str) -> None:
        self.draft = value

    @rx.event
    async def set_agent_label(self, label: str) -> None:
        self.agent_id = next((v for v, name in self.agent_choices if name == label), "")
        await self._read_versions()

    @rx.event
    def set_version_choice(self, value: str) -> None:
        self.version_choice = value

    @rx.event
    async def send(self, _form: dict[str, Any]) -> Any:
        text = self.draft.strip()
        if not text or self.sending or not self.may_write:
            return
        if not self.agent_id:
            self.send_error = "Choose the agent that answers."
            return
        self.sending, self.send_error = True, ""
        yield
        thread_id, agent_id = self.thread_id, self.agent_id
        version = version_wanted(self.version_choice)
        run = await self._attempt(
            lambda client: self._api(
                client.start_thread_run, thread_id, agent_id, text, version=version
            )
        )
        self.sending = False
        if isinstance(run, Failure):
            self.send_error = run.message
            yield run.redirect
            return
        self.draft = ""
        self.run_id = str(run["id"])
        self._fold = run_state.RunState()
        self._fold.seed(run=run)
        self._show_run()
        conversation = await self._attempt(lambda client: self._conversation(client, thread_id))
        if not isinstance(conversation, Failure):
            self._show_conversation(*conversation)
        yield ThreadState.follow

    @rx.event
    async def cancel(self) -> Any:
        if not self.may_write or not self.run_id:
            return None
        self.cancelling = True
        run_id = self.run_id
        run = await self._attempt(lambda client: self._api(client.cancel_run, run_id))
        if isinstance(run, Failure):
            self.cancelling = False
            self.send_error = run.message
            return run.redirect
        self._fold.seed(run=run)
        self._show_run()
        return rx.toast.info("Cancel requested.")

    @rx.event
    async def decide(self, approval_id: str, decision: str) -> Any:
        decided, redirect = await submit_decision(self, approval_id, decision)
        if decided is None:
            return redirect
        self._fold.seed(approvals=[decided])
        self._show_run()
        toast = decision_toast(decided, decision)
        # If nothing follows the run any more (e.g. a reload raced the stream), follow it again.
        return [toast, ThreadState.follow] if not self.live and self.active else toast
