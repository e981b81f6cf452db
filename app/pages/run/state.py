"""The run page's state: the run as its snapshot and live events tell it, and its actions.

On load the page reads the run and its steps, then follows the run's event stream from a
background event until the run ends (a reload mid-run does the same again: nothing is lost).
Both go into the client's run fold (`client.run_state`); the page shows what it holds.
"""

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from app import api, live
from app.components import ApprovalDrafts, decision_toast, submit_decision
from app.state import Failure, PageState, SessionState, path_part
from app.view import (
    ACTIVE,
    WRITER,
    ApprovalView,
    ArtifactView,
    StepView,
    WaterfallBar,
    approval_row,
    artifact_view,
    cost,
    duration,
    error_text,
    may,
    person,
    plural,
    pretty,
    request_text,
    rerun_link,
    seconds_between,
    step_row,
    tokens,
    waterfall,
    waterfall_span,
    when,
)
from client import AgentRuntimeClient, run_state

# Between events the durations of the run and its running step still advance, once a second.
TICK_SECONDS = 1.0
# A run, its steps, its approvals and its artifacts, as the REST API lists them.
Details = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]


class RunState(PageState, ApprovalDrafts, SessionState):
    run_id: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    version: rx.Field[str] = rx.field("")
    # The alias it was started through and the schedule that fired it, if any.
    alias: rx.Field[str] = rx.field("")
    schedule_id: rx.Field[str] = rx.field("")
    input_text: rx.Field[str] = rx.field("")
    output_text: rx.Field[str] = rx.field("")
    run_error: rx.Field[str] = rx.field("")
    created: rx.Field[str] = rx.field("")
    created_by: rx.Field[str] = rx.field("")
    # The agent's launcher, filled in with this run's input, context and version.
    rerun_link: rx.Field[str] = rx.field("")
    started: rx.Field[str] = rx.field("")
    elapsed: rx.Field[str] = rx.field("")
    tokens_label: rx.Field[str] = rx.field("")
    cost_label: rx.Field[str] = rx.field("")
    trace_url: rx.Field[str] = rx.field("")
    steps: rx.Field[list[StepView]] = rx.field(default_factory=list)
    approvals: rx.Field[list[ApprovalView]] = rx.field(default_factory=list)
    artifacts: rx.Field[list[ArtifactView]] = rx.field(default_factory=list)
    bars: rx.Field[list[WaterfallBar]] = rx.field(default_factory=list)
    bars_span: rx.Field[str] = rx.field("")
    live: rx.Field[bool] = rx.field(False)
    live_note: rx.Field[str] = rx.field("")
    # The model step streaming now: its text grows here, not in `steps` (a small delta each time).
    live_seq: rx.Field[int] = rx.field(0)
    live_text: rx.Field[str] = rx.field("")
    cancelling: rx.Field[bool] = rx.field(False)
    # The model step whose request is open (0: none), and that request as text.
    request_seq: rx.Field[int] = rx.field(0)
    request_shown: rx.Field[str] = rx.field("")
    # The run as its snapshot and events tell it; the vars above are what the page shows of it.
    # Not a var: never sent to the browser, nor wrapped to track changes (it changes per event).
    _fold: run_state.RunState = rx.field(default_factory=run_state.RunState, is_var=False)
    _generation: rx.Field[int] = rx.field(0)

    @rx.var
    def active(self) -> bool:
        return self.status in ACTIVE

    @rx.var
    def pending(self) -> list[ApprovalView]:
        return [a for a in self.approvals if a.status == "pending"]

    @rx.var
    def decided(self) -> list[ApprovalView]:
        return [a for a in self.approvals if a.status != "pending"]

    @rx.var
    def steps_label(self) -> str:
        return plural(len(self.steps), "step")

    @rx.var
    def may_write(self) -> bool:
        """Whether the caller may cancel, run again and decide (a viewer only reads)."""
        return may(self.role, WRITER, self.platform_admin)

    # Loading and following -------------------------------------------------------------------
    @rx.event
    async def load(self) -> Any:
        self.run_id = path_part(self.router.url.path, 1)
        self._generation += 1
        self._fold = run_state.RunState()
        self._start_loading()
        self.live, self.live_note = False, ""
        self.steps, self.approvals, self.artifacts, self.bars = [], [], [], []
        self.decide_errors, self.cancelling = {}, False
        self.live_seq, self.live_text = 0, ""
        self.request_seq, self.request_shown = 0, ""
        yield

        async def read(client: AgentRuntimeClient) -> tuple[Details, dict[str, Any]]:
            details = await self._fetch(client, self.run_id)
            agent = await self._api(client.get_agent, details[0]["agent_id"])
            await self._refresh_pending(client)
            return details, agent

        found = await self._load(read)
        if isinstance(found, Failure):
            yield found.redirect
            return
        details, agent = found
        self.agent_name = agent["name"]
        self._show_details(*details)
        self.loaded = True
        if self.status in ACTIVE:
            yield RunState.follow

    async def _fetch(self, client: AgentRuntimeClient, run_id: str) -> Details:
        run = await api.call(client.get_run, run_id)
        steps = await api.call(client.list_steps, run_id)
        approvals = await api.call(client.list_approvals, run_id=run_id)
        artifacts = await api.call(client.list_artifacts, run_id)
        return run, steps, approvals, artifacts

    def _show_details(
        self,
        run: dict[str, Any],
        steps: list[dict[str, Any]],
        approvals: list[dict[str, Any]],
        artifacts: list[dict[str, Any]],
    ) -> None:
        self._fold.seed(run, steps, approvals)
        self.agent_id, self.version = run["agent_id"], f"v{run['version']}"
        self.alias = str(run.get("alias") or "")
        self.schedule_id = str(run.get("schedule_id") or "")
        self.input_text = pretty(run.get("input"))
        self.created = when(run.get("created_at"), seconds=True)
        self.created_by = person(run.get("created_by"), self._me(), run.get("created_by_name"))
        self.rerun_link = rerun_link(run)
        self.trace_url = str(run.get("trace_url") or "")
        self.artifacts = [artifact_view(a) for a in artifacts]
        self._show_changes(run_state.EVERYTHING)

    def _show_changes(self, parts: Collection[str], seqs: Collection[int] | None = None) -> None:
        """Show the parts of the run that changed; of its steps, those in `seqs` (None: all)."""
        fold = self._fold
        if run_state.STATUS in parts or run_state.OUTCOME in parts:
            self.status = fold.status
            self.output_text = pretty(fold.output)
            self.run_error = error_text(fold.error)
            self.started = when(fold.started_at, seconds=True)
        if run_state.STEPS in parts:
            self._show_steps(seqs)
        if run_state.STEPS in parts or run_state.TEXT in parts:
            streaming = fold.streaming
            self.live_seq = streaming.seq if streaming else 0
            self.live_text = streaming.text if streaming else ""
        if run_state.APPROVAL in parts:
            names, me = {self.agent_id: self.agent_name}, self._me()
            self.approvals = [approval_row(a, names, me) for a in fold.approvals.values()]
        # While the run goes on its totals are its steps' so far.
        self.tokens_label, self.cost_label = tokens(fold.usage), cost(fold.cost_usd)
        self._show_elapsed()
        self._show_bars()

    def _show_steps(self, seqs: Collection[int] | None) -> None:
        now = datetime.now(UTC)
        if seqs is None:
            self.steps = [step_row(step, now) for step in self._fold.step_list()]
            return
        rows = {row.seq: row for row in self.steps}
        rows.update((seq, step_row(self._fold.steps[seq], now)) for seq in seqs)
        self.steps = [rows[seq] for seq in sorted(rows)]

    def _show_time_passing(self) -> None:
        """What advances with the clock alone: the run's and its running steps' durations."""
        running = {row.seq for row in self.steps if row.status == "running"}
        if running:
            self._show_steps(running)
        self._show_elapsed()
        self._show_bars()

    def _show_elapsed(self) -> None:
        fold = self._fold
        end = fold.ended_at or (datetime.now(UTC).isoformat() if self.status in ACTIVE else None)
        self.elapsed = duration(seconds_between(fold.started_at, end))

    def _show_bars(self) -> None:
        run = {"started_at": self._fold.started_at, "created_at": self._fold.created_at}
        self.bars = waterfall(run, self.steps, self.approvals, datetime.now(UTC))
        self.bars_span = duration(waterfall_span(self.bars))

    def _show_events(self, events: list[dict[str, Any]]) -> None:
        """Fold a batch of events in, then show what they changed, at once."""
        parts: set[str] = set()
        seqs: set[int] = set()
        for event in events:
            if event["type"] == "workbench.error":
                self.live_note = f"Live updates stopped: {event.get('message')}"
                continue
            change = self._fold.apply(event)
            parts |= change.parts
            if change.step is not None:
                seqs.add(change.step.seq)
        self._show_changes(parts, seqs)

    @rx.event(background=True)
    async def follow(self) -> None:
        """Follow the run's events until it ends, the page changes, or the browser leaves."""
        async with self:
            run_id, generation = self.run_id, self._generation
            session = api.SESSIONS.get(self.session_cookie)
            if session is None or self.status not in ACTIVE:
                return
            self.live, self.live_note = True, ""
            # Followed again (e.g. after a decision), the stream goes on after what was shown.
            after = self._fold.last_event_id
        client = session.client()
        batches = live.event_batches(client, run_id, after, tick=TICK_SECONDS)
        try:
            async for batch in batches:
                async with self:
                    if self.run_id != run_id or self._generation != generation:
                        return
                    if batch.events:
                        self._show_events(batch.events)
                    else:
                        self._show_time_passing()
                    # Ended steps, approvals and the ending have more to show than events carry.
                    reread = batch.last or (bool(batch.events) and self._fold.snapshot_is_behind)
                if reread:
                    try:
                        details = await self._fetch(client, run_id)
                    except Exception as exc:
                        async with self:
                            self.live_note = api.describe(exc)
                        continue
                    async with self:
                        if self.run_id != run_id or self._generation != generation:
                            return
                        self._show_details(*details)
                        await self._refresh_pending(client)
        finally:
            await batches.aclose()  # stops following at once, however the loop was left
            try:
                async with self:
                    if self._generation == generation:
                        self.live = False
            except Exception:  # noqa: S110  (the browser may be gone)
                pass

    @rx.event
    async def toggle_request(self, seq: int) -> Any:
        """Show (or hide again) exactly what a model step sent its provider."""
        if self.request_seq == seq:
            self.request_seq, self.request_shown = 0, ""
            return None
        run_id = self.run_id
        step = await self._attempt(lambda client: self._api(client.get_step, run_id, seq))
        if isinstance(step, Failure):
            self.error = step.message
            return step.redirect
        self.request_seq, self.request_shown = seq, request_text(step.get("request"))
        return None

    # Actions ------------------------------------------------------------------------------------
    @rx.event
    async def cancel(self) -> Any:
        if not self.may_write:
            return None
        self.cancelling = True
        run_id = self.run_id
        run = await self._attempt(lambda client: self._api(client.cancel_run, run_id))
        if isinstance(run, Failure):
            self.cancelling = False
            self.error = run.message
            return run.redirect
        self._fold.seed(run=run)
        self._show_changes({run_state.STATUS})
        return rx.toast.info("Cancel requested.")

    @rx.event
    async def decide(self, approval_id: str, decision: str) -> Any:
        decided, redirect = await submit_decision(self, approval_id, decision)
        if decided is None:
            return redirect
        self._fold.seed(approvals=[decided])
        self._show_changes({run_state.APPROVAL})
        return [decision_toast(decided, decision), RunState.after_decision]

    @rx.event
    async def after_decision(self) -> Any:
        """If nothing follows the run any more (e.g. after a reload race), follow it again."""
        if not self.live and self.status in ACTIVE:
            return RunState.follow
        return None
