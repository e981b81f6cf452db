"""A run, live: status, timing, usage, the step timeline as it streams, approvals, artifacts.

On load the page reads the run and its steps, then follows the run's event stream from a
background event until the run ends (a reload mid-run does the same again: nothing is lost).
Both go into the client's run fold (`client.run_state`); the page shows what it holds.
"""

import asyncio
import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from app import api
from app.components import (
    card,
    code_text,
    crumbs,
    empty_state,
    error_callout,
    field_error,
    loading,
    page_header,
    section_title,
    shell,
    stat,
    status_badge,
)
from app.pages.agent import path_part
from app.run_rows import approval_row, step_row
from app.state import SessionState
from app.view import (
    ACTIVE,
    ApprovalView,
    ArtifactView,
    StepView,
    WaterfallBar,
    artifact_view,
    cost,
    duration,
    error_text,
    pretty,
    seconds_between,
    short_id,
    tokens,
    waterfall,
    when,
)
from client import AgentRuntimeClient, ApiError, run_state

BATCH_SECONDS = 0.02  # events that arrive together (a burst of deltas) are shown together
IDLE_CHECK_SECONDS = 10.0


def decision_arguments(original: str, draft: str | None) -> dict[str, Any] | None:
    """Edited arguments to approve with, or None when they are unchanged. Raises ValueError."""
    if draft is None or not draft.strip():
        return None
    edited = json.loads(draft)
    if not isinstance(edited, dict):
        raise ValueError("the arguments must be a JSON object")
    return None if edited == json.loads(original or "{}") else edited


class RunState(SessionState):
    run_id: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("")
    agent_id: rx.Field[str] = rx.field("")
    agent_name: rx.Field[str] = rx.field("")
    version: rx.Field[str] = rx.field("")
    input_text: rx.Field[str] = rx.field("")
    output_text: rx.Field[str] = rx.field("")
    run_error: rx.Field[str] = rx.field("")
    created: rx.Field[str] = rx.field("")
    started: rx.Field[str] = rx.field("")
    elapsed: rx.Field[str] = rx.field("")
    tokens_label: rx.Field[str] = rx.field("")
    cost_label: rx.Field[str] = rx.field("")
    trace_url: rx.Field[str] = rx.field("")
    steps: rx.Field[list[StepView]] = rx.field(default_factory=list)
    approvals: rx.Field[list[ApprovalView]] = rx.field(default_factory=list)
    artifacts: rx.Field[list[ArtifactView]] = rx.field(default_factory=list)
    bars: rx.Field[list[WaterfallBar]] = rx.field(default_factory=list)
    live: rx.Field[bool] = rx.field(False)
    live_note: rx.Field[str] = rx.field("")
    # The model step streaming now: its text grows here, not in `steps` (a small delta each time).
    live_seq: rx.Field[int] = rx.field(0)
    live_text: rx.Field[str] = rx.field("")
    loaded: rx.Field[bool] = rx.field(False)
    error: rx.Field[str] = rx.field("")
    cancelling: rx.Field[bool] = rx.field(False)
    comment_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    argument_drafts: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
    decide_errors: rx.Field[dict[str, str]] = rx.field(default_factory=dict)
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
    def chart_height(self) -> int:
        return 60 + 28 * len(self.bars)

    # Loading and following -------------------------------------------------------------------
    @rx.event
    async def load(self) -> Any:
        self.run_id = path_part(self.router.url.path, 1)
        self._generation += 1
        self._fold = run_state.RunState()
        self.loaded, self.error, self.live, self.live_note = False, "", False, ""
        self.failed = False
        self.steps, self.approvals, self.artifacts, self.bars = [], [], [], []
        self.decide_errors, self.cancelling = {}, False
        self.live_seq, self.live_text = 0, ""
        yield
        try:
            client = await self._client()
            details = await self._fetch(client, self.run_id)
            agent = await self._api(client.get_agent, details[0]["agent_id"])
            await self._refresh_pending(client)
        except Exception as exc:
            self.failed = True
            self.error, redirect = self._trouble(exc)
            self.loaded = True
            if redirect is not None:
                yield redirect
            return
        self.agent_name = agent["name"]
        self._show_details(*details)
        self.loaded = True
        if self.status in ACTIVE:
            yield RunState.follow

    async def _fetch(
        self, client: AgentRuntimeClient, run_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
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
        self.input_text = pretty(run.get("input"))
        self.created = when(run.get("created_at"), seconds=True)
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
        if seqs is None:
            self.steps = [step_row(step) for step in self._fold.step_list()]
            return
        rows = {row.seq: row for row in self.steps}
        rows.update((seq, step_row(self._fold.steps[seq])) for seq in seqs)
        self.steps = [rows[seq] for seq in sorted(rows)]

    def _show_elapsed(self) -> None:
        fold = self._fold
        end = fold.ended_at or (datetime.now(UTC).isoformat() if self.status in ACTIVE else None)
        self.elapsed = duration(seconds_between(fold.started_at, end))

    def _show_bars(self) -> None:
        run = {"started_at": self._fold.started_at, "created_at": self._fold.created_at}
        self.bars = waterfall(run, self.steps, self.approvals, datetime.now(UTC))

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
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for event in client.follow_events_async(run_id, after=after):
                    await queue.put(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await queue.put({"type": "workbench.error", "message": api.describe(exc)})
            await queue.put(None)

        task = asyncio.create_task(pump())
        try:
            finished = False
            while not finished:
                batch: list[dict[str, Any] | None] = []
                try:
                    batch.append(await asyncio.wait_for(queue.get(), IDLE_CHECK_SECONDS))
                    await asyncio.sleep(BATCH_SECONDS)
                except TimeoutError:
                    pass
                while not queue.empty():
                    batch.append(queue.get_nowait())
                finished = any(event is None or event["type"] == "run.completed" for event in batch)
                async with self:
                    if self.run_id != run_id or self._generation != generation:
                        return
                    self._show_events([event for event in batch if event is not None])
                    # Ended steps, approvals and the ending have more to show than events carry.
                    reread = finished or (bool(batch) and self._fold.snapshot_is_behind)
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
            task.cancel()
            try:
                async with self:
                    if self._generation == generation:
                        self.live = False
            except Exception:  # noqa: S110  (the browser may be gone)
                pass

    # Actions ------------------------------------------------------------------------------------
    @rx.event
    async def cancel(self) -> Any:
        self.cancelling = True
        try:
            client = await self._client()
            run = await self._api(client.cancel_run, self.run_id)
        except Exception as exc:
            self.cancelling = False
            self.error, redirect = self._trouble(exc)
            return redirect
        self._fold.seed(run=run)
        self._show_changes({run_state.STATUS})
        return rx.toast.info("Cancel requested.")

    @rx.event
    def set_comment(self, approval_id: str, value: str) -> None:
        self.comment_drafts = {**self.comment_drafts, approval_id: value}

    @rx.event
    def set_arguments(self, approval_id: str, value: str) -> None:
        self.argument_drafts = {**self.argument_drafts, approval_id: value}

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


async def submit_decision(
    state: Any, approval_id: str, decision: str
) -> tuple[dict[str, Any] | None, Any]:
    """Send a decision on one of `state.approvals` with its drafted comment and arguments, for
    the run page and the inbox alike. Returns the decided approval, or None and what to return
    (a redirect on trouble) after recording the problem in `state.decide_errors`."""
    approval = next((a for a in state.approvals if a.id == approval_id), None)
    if approval is None:
        return None, None
    errors = {k: v for k, v in state.decide_errors.items() if k != approval_id}
    try:
        arguments = (
            decision_arguments(approval.arguments, state.argument_drafts.get(approval_id))
            if decision == "approve"
            else None
        )
    except ValueError as exc:
        state.decide_errors = {**errors, approval_id: f"Arguments: {exc}"}
        return None, None
    comment = state.comment_drafts.get(approval_id, "").strip() or None
    try:
        client = await state._client()
        decided: dict[str, Any] = await state._api(
            client.decide_approval, approval.run_id, approval_id, decision, comment, arguments
        )
    except ApiError as exc:
        state.decide_errors = {**errors, approval_id: exc.message}
        return None, None
    except Exception as exc:
        message, redirect = state._trouble(exc)
        state.decide_errors = {**errors, approval_id: message}
        return None, redirect
    state.decide_errors = errors
    return decided, None


def decision_toast(decided: dict[str, Any], decision: str) -> Any:
    verb = "Approved" if decision == "approve" else "Rejected"
    return rx.toast.success(f"{verb} {decided['tool_name']}.")


def approval_card(approval: ApprovalView, state: type[Any]) -> rx.Component:
    """A pending approval with approve/reject, a comment and editable arguments."""
    arguments = rx.cond(
        state.argument_drafts.contains(approval.id),
        state.argument_drafts[approval.id],
        approval.arguments,
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("shield-alert", size=18, color=rx.color("amber", 10)),
                rx.text("Approval needed: ", rx.code(approval.tool_name), weight="bold"),
                rx.spacer(),
                rx.cond(
                    approval.agent_name != "",
                    rx.link(approval.agent_name, href=f"/agents/{approval.agent_id}", size="2"),
                ),
                rx.link(
                    approval.run_short,
                    href=f"/runs/{approval.run_id}",
                    size="2",
                    class_name="approval-run-link",
                ),
                align="center",
                width="100%",
            ),
            rx.text(
                "Requested ",
                approval.requested,
                " UTC · expires ",
                approval.expires,
                " UTC · step #",
                approval.step_seq,
                size="1",
                color_scheme="gray",
            ),
            rx.grid(
                rx.vstack(
                    rx.text("Arguments (edit to approve with other values)", size="1"),
                    rx.text_area(
                        value=arguments,
                        on_change=lambda v: state.set_arguments(approval.id, v),
                        rows="5",
                        width="100%",
                        font_family="var(--code-font-family)",
                        font_size="12px",
                        class_name="approval-arguments",
                    ),
                    spacing="1",
                ),
                rx.vstack(
                    rx.text("Comment (a rejection tells the model why)", size="1"),
                    rx.text_area(
                        value=state.comment_drafts.get(approval.id, ""),
                        on_change=lambda v: state.set_comment(approval.id, v),
                        rows="5",
                        width="100%",
                        class_name="approval-comment",
                    ),
                    spacing="1",
                ),
                columns="2",
                spacing="3",
                width="100%",
            ),
            field_error(state.decide_errors.get(approval.id, ""), class_name="approval-error"),
            rx.hstack(
                rx.button(
                    rx.icon("x", size=14),
                    "Reject",
                    color_scheme="red",
                    variant="soft",
                    on_click=state.decide(approval.id, "reject"),
                    class_name="approval-reject",
                ),
                rx.button(
                    rx.icon("check", size=14),
                    "Approve",
                    color_scheme="green",
                    on_click=state.decide(approval.id, "approve"),
                    class_name="approval-approve",
                ),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        class_name="approval-card",
        style={"border_left": f"4px solid {rx.color('amber', 9)}"},
    )


def step_item(step: StepView) -> rx.Component:
    is_model = step.kind == "model"
    text = rx.cond(
        (step.seq == RunState.live_seq) & (step.status == "running"), RunState.live_text, step.text
    )
    return rx.hstack(
        rx.vstack(
            rx.center(
                rx.cond(
                    is_model,
                    rx.icon("sparkles", size=16, color="white"),
                    rx.icon("wrench", size=16, color="white"),
                ),
                width="32px",
                height="32px",
                border_radius="50%",
                background=rx.cond(is_model, rx.color("accent", 9), rx.color("grass", 9)),
                flex_shrink="0",
            ),
            rx.box(width="2px", flex="1", background=rx.color("gray", 5)),
            align="center",
            spacing="1",
            align_self="stretch",
        ),
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("#", step.seq, color_scheme="gray", size="2"),
                    rx.text(step.name, weight="bold"),
                    rx.badge(step.kind, variant="outline"),
                    status_badge(step.status, class_name="step-status"),
                    rx.cond(step.attempt > 1, rx.badge("attempt ", step.attempt)),
                    rx.spacer(),
                    rx.text(step.duration, size="1", color_scheme="gray"),
                    rx.cond(
                        is_model & (step.status != "running"),
                        rx.text(
                            step.tokens, " tokens · ", step.cost, size="1", color_scheme="gray"
                        ),
                    ),
                    align="center",
                    width="100%",
                ),
                rx.cond(
                    is_model,
                    rx.vstack(
                        rx.cond(
                            text != "",
                            rx.text(
                                text,
                                rx.cond(
                                    step.status == "running",
                                    rx.el.span("▍", class_name="cursor"),
                                ),
                                size="2",
                                white_space="pre-wrap",
                                class_name="step-text",
                            ),
                            rx.cond(
                                step.tool_calls == "",
                                rx.text(step.summary, size="2", color_scheme="gray"),
                            ),
                        ),
                        rx.cond(
                            step.tool_calls != "",
                            rx.vstack(
                                rx.text(step.summary, size="2", weight="medium"),
                                code_text(step.tool_calls, max_height="200px"),
                                spacing="1",
                                width="100%",
                            ),
                        ),
                        spacing="2",
                        width="100%",
                    ),
                    rx.grid(
                        rx.vstack(
                            rx.text("Arguments", size="1", color_scheme="gray"),
                            code_text(rx.cond(step.arguments != "", step.arguments, "—")),
                            spacing="1",
                            min_width="0",
                        ),
                        rx.vstack(
                            rx.text("Result", size="1", color_scheme="gray"),
                            code_text(
                                rx.cond(
                                    step.result != "",
                                    step.result,
                                    rx.cond(step.status == "running", "running…", "—"),
                                ),
                                class_name="step-result",
                            ),
                            spacing="1",
                            min_width="0",
                        ),
                        columns="2",
                        spacing="3",
                        width="100%",
                    ),
                ),
                rx.cond(
                    step.error != "",
                    rx.callout(
                        step.error,
                        color_scheme="red",
                        icon="circle-x",
                        size="1",
                        class_name="step-error",
                    ),
                ),
                rx.cond(
                    (step.output_url != "") | (step.input_url != ""),
                    rx.hstack(
                        rx.cond(
                            step.input_url != "",
                            rx.link(
                                rx.icon("download", size=14),
                                "Full input",
                                href=step.input_url,
                                is_external=True,
                                size="2",
                            ),
                        ),
                        rx.cond(
                            step.output_url != "",
                            rx.link(
                                rx.icon("download", size=14),
                                "Full output",
                                href=step.output_url,
                                is_external=True,
                                size="2",
                                class_name="step-output-link",
                            ),
                        ),
                        spacing="4",
                    ),
                ),
                spacing="2",
                width="100%",
            ),
            flex="1",
            min_width="0",
            margin_bottom="12px",
        ),
        align="start",
        width="100%",
        spacing="3",
        class_name="step",
        custom_attrs={"data-seq": step.seq, "data-kind": step.kind},
    )


def waterfall_chart() -> rx.Component:
    return card(
        section_title(
            "Where the time went",
            rx.hstack(
                *[
                    rx.hstack(
                        rx.box(width="10px", height="10px", border_radius="2px", background=color),
                        rx.text(label, size="1"),
                        align="center",
                        spacing="1",
                    )
                    for label, color in (
                        ("model", rx.color("accent", 9)),
                        ("tool", rx.color("grass", 9)),
                        ("waiting for approval", rx.color("amber", 9)),
                    )
                ],
                spacing="3",
            ),
        ),
        rx.cond(
            RunState.bars.length() > 0,
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
                rx.recharts.x_axis(type_="number", unit=" s", tick={"fontSize": 11}),
                rx.recharts.y_axis(
                    data_key="label", type_="category", width=150, tick={"fontSize": 11}
                ),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(
                    data_key="offset",
                    stack_id="t",
                    fill="transparent",
                    name="starts at (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="model",
                    stack_id="t",
                    fill=rx.color("accent", 9),
                    name="model (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="tool",
                    stack_id="t",
                    fill=rx.color("grass", 9),
                    name="tool (s)",
                    is_animation_active=False,
                ),
                rx.recharts.bar(
                    data_key="approval",
                    stack_id="t",
                    fill=rx.color("amber", 9),
                    name="approval wait (s)",
                    is_animation_active=False,
                ),
                data=RunState.bars.to(list[dict[str, Any]]),
                layout="vertical",
                height=RunState.chart_height,
                width="100%",
                bar_category_gap=4,
            ),
            rx.text("No steps yet.", size="2", color_scheme="gray"),
        ),
        id="waterfall",
    )


def run_page() -> rx.Component:
    agent = f"/agents/{RunState.agent_id}"
    return shell(
        page_header(
            rx.text("Run ", rx.code(RunState.run_id, size="5", variant="ghost")),
            rx.hstack(
                rx.link(RunState.agent_name, href=agent),
                rx.badge(RunState.version, variant="outline"),
                rx.text("· created ", RunState.created, " UTC", size="2", color_scheme="gray"),
                align="center",
            ),
            rx.cond(
                RunState.trace_url != "",
                rx.link(
                    rx.button(rx.icon("external-link", size=14), "Trace", variant="soft"),
                    href=RunState.trace_url,
                    is_external=True,
                    id="trace-link",
                ),
            ),
            rx.cond(
                RunState.active,
                rx.button(
                    rx.icon("circle-stop", size=14),
                    "Cancel run",
                    color_scheme="red",
                    variant="soft",
                    on_click=RunState.cancel,
                    loading=RunState.cancelling,
                    disabled=RunState.status == "cancelling",
                    id="cancel-run",
                ),
                rx.link(
                    rx.button(rx.icon("rotate-ccw", size=14), "Run again", variant="soft"),
                    href=f"{agent}?tab=run",
                ),
            ),
            breadcrumbs=crumbs(
                ("Agents", "/agents"),
                (RunState.agent_name, agent),
                ("Runs", f"/runs?agent={RunState.agent_id}"),
                (short_id_var(RunState.run_id), None),
            ),
        ),
        error_callout(RunState.error),
        rx.cond(
            ~RunState.loaded,
            loading("Loading the run…"),
            rx.cond(
                RunState.failed,
                rx.fragment(),
                rx.vstack(
                    card(
                        rx.hstack(
                            rx.vstack(
                                rx.text("Status", size="1", color_scheme="gray", weight="medium"),
                                status_badge(RunState.status, size="3", id="run-status"),
                                spacing="1",
                                min_width="150px",
                            ),
                            stat("Started (UTC)", RunState.started),
                            stat("Duration", RunState.elapsed, id="run-duration"),
                            stat("Tokens", RunState.tokens_label, id="run-tokens"),
                            stat("Cost", RunState.cost_label, id="run-cost"),
                            rx.spacer(),
                            rx.cond(
                                RunState.live,
                                rx.hstack(
                                    rx.box(
                                        width="8px",
                                        height="8px",
                                        border_radius="50%",
                                        background=rx.color("grass", 9),
                                        class_name="pulse",
                                    ),
                                    rx.text(
                                        "Live", size="2", color_scheme="grass", weight="medium"
                                    ),
                                    align="center",
                                    id="live-indicator",
                                ),
                            ),
                            align="center",
                            spacing="6",
                            width="100%",
                            wrap="wrap",
                        ),
                    ),
                    rx.cond(
                        RunState.live_note != "",
                        rx.callout(RunState.live_note, color_scheme="amber", icon="wifi-off"),
                    ),
                    rx.cond(
                        RunState.pending.length() > 0,
                        rx.vstack(
                            rx.foreach(RunState.pending, lambda a: approval_card(a, RunState)),
                            width="100%",
                            spacing="3",
                        ),
                    ),
                    rx.grid(
                        card(
                            section_title("Input"),
                            code_text(RunState.input_text, margin_top="8px", id="run-input"),
                        ),
                        card(
                            section_title("Output"),
                            rx.cond(
                                RunState.run_error != "",
                                rx.callout(
                                    RunState.run_error,
                                    color_scheme="red",
                                    icon="circle-x",
                                    margin_top="8px",
                                    id="run-error",
                                ),
                            ),
                            rx.cond(
                                RunState.output_text != "",
                                code_text(RunState.output_text, margin_top="8px", id="run-output"),
                                rx.cond(
                                    RunState.active,
                                    rx.text(
                                        "The answer appears here when the run ends.",
                                        size="2",
                                        color_scheme="gray",
                                        margin_top="8px",
                                    ),
                                    rx.cond(
                                        RunState.run_error == "",
                                        rx.text("No output.", size="2", color_scheme="gray"),
                                    ),
                                ),
                            ),
                        ),
                        columns="2",
                        spacing="4",
                        width="100%",
                    ),
                    rx.grid(
                        rx.vstack(
                            section_title(
                                "Timeline",
                                rx.text(
                                    RunState.steps.length(), " steps", size="2", color_scheme="gray"
                                ),
                            ),
                            rx.cond(
                                RunState.steps.length() > 0,
                                rx.vstack(
                                    rx.foreach(RunState.steps, step_item),
                                    spacing="0",
                                    width="100%",
                                    id="timeline",
                                ),
                                empty_state(
                                    "hourglass",
                                    "No steps yet",
                                    "Steps appear here live as the worker runs them.",
                                ),
                            ),
                            spacing="3",
                            min_width="0",
                        ),
                        rx.vstack(
                            waterfall_chart(),
                            card(
                                section_title("Artifacts"),
                                rx.cond(
                                    RunState.artifacts.length() > 0,
                                    rx.vstack(
                                        rx.foreach(
                                            RunState.artifacts,
                                            lambda f: rx.hstack(
                                                rx.icon("file", size=14),
                                                rx.link(
                                                    f.name,
                                                    href=f.url,
                                                    is_external=True,
                                                    class_name="artifact-link",
                                                ),
                                                rx.spacer(),
                                                rx.text(f.size, size="1", color_scheme="gray"),
                                                align="center",
                                                width="100%",
                                            ),
                                        ),
                                        margin_top="8px",
                                        width="100%",
                                    ),
                                    rx.text(
                                        "No files saved (the artifact_write tool saves them).",
                                        size="2",
                                        color_scheme="gray",
                                        margin_top="8px",
                                    ),
                                ),
                            ),
                            rx.cond(
                                RunState.decided.length() > 0,
                                card(
                                    section_title("Decisions"),
                                    rx.vstack(
                                        rx.foreach(
                                            RunState.decided,
                                            lambda a: rx.vstack(
                                                rx.hstack(
                                                    rx.code(a.tool_name),
                                                    status_badge(
                                                        a.status, class_name="decision-status"
                                                    ),
                                                    rx.spacer(),
                                                    rx.text(
                                                        a.decided, size="1", color_scheme="gray"
                                                    ),
                                                    align="center",
                                                    width="100%",
                                                ),
                                                rx.text(
                                                    "by ",
                                                    a.decided_by,
                                                    rx.cond(
                                                        a.comment != "",
                                                        rx.text.em(" — “", a.comment, "”"),
                                                    ),
                                                    size="1",
                                                    color_scheme="gray",
                                                ),
                                                spacing="1",
                                                width="100%",
                                            ),
                                        ),
                                        margin_top="8px",
                                        spacing="3",
                                        width="100%",
                                    ),
                                ),
                            ),
                            spacing="4",
                            min_width="0",
                        ),
                        columns="3fr 2fr",
                        spacing="5",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
            ),
        ),
    )


def short_id_var(value: Any) -> Any:
    """`run_…abc123` in the breadcrumbs."""
    return rx.cond(value.length() > 8, "…" + value.to(str)[-8:], value)


__all__ = ["RunState", "approval_card", "decision_arguments", "run_page", "short_id"]
