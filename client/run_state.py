"""A run as its events tell it: the one fold the CLI, the notebook widgets and the workbench share.

Feed `RunState.apply` the events in the order the API's event stream delivers them
(`AgentRuntimeClient.follow_events`); read the steps by seq, each with the text its current
attempt streamed, the approvals, the status, the output and the totals. `seed` takes a REST
snapshot (`GET /v1/runs/{id}`, its steps, its approvals) as the truth so far: events replayed
over it (a stream always starts from the first event) do not undo it. Plain data, no I/O.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Event = dict[str, Any]

# The parts of a view an event changes, so a user interface redraws only those.
STATUS, STEPS, TEXT, APPROVAL, OUTCOME = "status", "steps", "text", "approval", "outcome"
EVERYTHING = frozenset({STATUS, STEPS, TEXT, APPROVAL, OUTCOME})


# What a step's REST record and `Step` both name so (REST's `usage` holds the token counts).
STEP_FIELDS_NAMED_ALIKE = (
    *("seq", "kind", "name", "status", "attempt"),
    *("cost_usd", "error", "started_at", "ended_at"),
)


@dataclass
class Step:
    seq: int
    kind: str
    name: str
    attempt: int = 1
    status: str = "running"
    duration_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    summary: str | None = None
    error: dict[str, Any] | None = None
    text: str = ""  # what the current attempt has streamed; a retry starts it again
    started_at: str | None = None
    ended_at: str | None = None
    record: dict[str, Any] | None = None  # the step as the REST API last listed it

    @property
    def record_is_current(self) -> bool:
        """Whether the REST record shows this attempt as the events do (nothing ended since)."""
        if self.record is None:
            return False
        listed = (int(self.record.get("attempt", 1)), str(self.record.get("status")))
        return listed == (self.attempt, self.status)

    def as_record(self) -> dict[str, Any]:
        """The step in the REST API's shape: its last record, with what the events said since."""
        named_alike = {name: getattr(self, name) for name in STEP_FIELDS_NAMED_ALIKE}
        usage = {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
        return {**(self.record or {}), **named_alike, "usage": usage}


# What an approval's REST record and `Approval` both name so (REST's `step_seq` is `seq` here).
APPROVAL_FIELDS_NAMED_ALIKE = (
    *("id", "run_id", "tool_name", "arguments", "status", "expires_at", "requested_at"),
    *("decided_at", "decided_by", "decided_by_name", "comment", "edited_arguments"),
)


@dataclass
class Approval:
    id: str
    seq: int
    tool_name: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"
    run_id: str = ""
    expires_at: str | None = None
    requested_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    decided_by_name: str | None = None  # who decided, for people to read
    comment: str | None = None
    edited_arguments: dict[str, Any] | None = None  # what an approval with edits ran with
    record: dict[str, Any] | None = None  # the approval as the REST API last listed it

    @property
    def record_is_current(self) -> bool:
        return self.record is not None and self.record.get("status") == self.status

    def as_record(self) -> dict[str, Any]:
        """The approval in the REST API's shape: its last record, with what events said since."""
        named_alike = {name: getattr(self, name) for name in APPROVAL_FIELDS_NAMED_ALIKE}
        return {**(self.record or {}), **named_alike, "step_seq": self.seq}


@dataclass(frozen=True)
class Change:
    """What one event changed: the parts of the view, and the step or approval it was about."""

    parts: frozenset[str] = frozenset()
    step: Step | None = None
    approval: Approval | None = None
    text: str = ""  # the text a model.delta added to `step.text`

    def __bool__(self) -> bool:
        return bool(self.parts)


NOTHING = Change()


@dataclass
class RunState:
    """Apply the run's events in order; read steps, streamed text, approvals and the ending."""

    status: str = "queued"
    run_id: str = ""
    steps: dict[int, Step] = field(default_factory=dict)  # by seq
    approvals: dict[str, Approval] = field(default_factory=dict)  # by approval id, as requested
    finished: bool = False  # run.completed arrived, or a snapshot showed the run ended
    output: Any = None
    error: dict[str, Any] | None = None
    run_usage: dict[str, int] | None = None  # the run's own totals: written when it ends
    run_cost_usd: float | None = None
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    record: dict[str, Any] | None = None  # the run as the REST API last returned it
    last_event_id: int = 0  # follow again after this id to resume
    keep_events: bool = False  # keep every event applied, in `events`
    events: list[Event] = field(default_factory=list)

    # Reading ----------------------------------------------------------------------------------
    def step_list(self) -> list[Step]:
        return [self.steps[seq] for seq in sorted(self.steps)]

    @property
    def text(self) -> str:
        """The text the model streamed, step after step."""
        return "\n\n".join(step.text for step in self.step_list() if step.text)

    @property
    def streaming(self) -> Step | None:
        """The model step running now (its text grows with each delta), if any."""
        running = [s for s in self.steps.values() if s.kind == "model" and s.status == "running"]
        return max(running, key=lambda step: step.seq, default=None)

    @property
    def pending(self) -> list[Approval]:
        """Approvals waiting for a decision; none once the run has ended."""
        if self.finished:
            return []
        return [approval for approval in self.approvals.values() if approval.status == "pending"]

    @property
    def pending_approval(self) -> Approval | None:
        return next(iter(self.pending), None)

    @property
    def usage(self) -> dict[str, int]:
        """Tokens in and out: the run's once it has ended, its steps' so far before."""
        if self.finished and self.run_usage is not None:
            return dict(self.run_usage)
        steps = self.steps.values()
        return {
            "input_tokens": sum(step.input_tokens for step in steps),
            "output_tokens": sum(step.output_tokens for step in steps),
        }

    @property
    def cost_usd(self) -> float:
        if self.finished and self.run_cost_usd is not None:
            return self.run_cost_usd
        return sum(step.cost_usd for step in self.steps.values())

    def outcome(self) -> dict[str, Any]:
        """How the run ended (or stands): the fields of `run.completed`."""
        return {
            "status": self.status,
            "output": self.output,
            "error": self.error,
            "usage": self.usage,
            "cost_usd": self.cost_usd,
        }

    @property
    def snapshot_is_behind(self) -> bool:
        """Whether events told of what the last snapshot lacks: an ended step, an approval asked
        for or decided, the run's end. A view showing what only REST has (payloads, links, who
        decided) reads the snapshot again then."""
        return (
            any(not s.record_is_current for s in self.steps.values() if s.status != "running")
            or any(not approval.record_is_current for approval in self.approvals.values())
            or (self.finished and (self.record or {}).get("status") != self.status)
        )

    # Events -----------------------------------------------------------------------------------
    def apply(self, event: Event) -> Change:
        """Fold one event in; what it changed (nothing for a repeated or older event id)."""
        event_id = event.get("id")
        if isinstance(event_id, int):
            if event_id <= self.last_event_id:
                return NOTHING  # seen already: a stream followed again from the start
            self.last_event_id = event_id
        if self.keep_events:
            self.events.append(event)
        self.run_id = self.run_id or str(event.get("run_id") or "")
        handler = _HANDLERS.get(str(event.get("type")))
        return handler(self, event) if handler else NOTHING

    def _run_status(self, event: Event) -> Change:
        if self.finished:
            return NOTHING  # an ending is final: an older status replayed after it changes nothing
        self.status = str(event["status"])
        if self.status == "running" and not self.started_at:
            self.started_at = event.get("at")
        return Change(frozenset({STATUS}))

    def _step_started(self, event: Event) -> Change:
        seq, attempt = int(event["seq"]), int(event.get("attempt", 1))
        known = self.steps.get(seq)
        if known is not None and attempt <= known.attempt:
            if attempt == known.attempt and not known.name:  # its text came first
                known.kind, known.name = str(event["kind"]), str(event["name"])
                return Change(frozenset({STEPS}), known)
            return NOTHING  # replayed over a snapshot that has this attempt already
        step = self._new_attempt(known, seq, str(event["kind"]), str(event["name"]), attempt)
        step.started_at = event.get("at")
        # A retry: the failed attempt's partial text is void.
        parts = {STEPS, TEXT} if known is not None and known.text else {STEPS}
        return Change(frozenset(parts), step)

    def _model_delta(self, event: Event) -> Change:
        seq, attempt = int(event["seq"]), int(event.get("attempt", 1))
        step = self.steps.get(seq)
        parts = {TEXT}
        if step is None or attempt > step.attempt:  # text of an attempt whose start is unseen
            kind, name = (step.kind, step.name) if step else ("model", "")
            step = self._new_attempt(step, seq, kind, name, attempt)
            parts.add(STEPS)
        elif attempt < step.attempt:
            return NOTHING  # late text from an attempt already superseded
        step.text += str(event["text"])
        return Change(frozenset(parts), step, text=str(event["text"]))

    def _new_attempt(
        self, known: Step | None, seq: int, kind: str, name: str, attempt: int
    ) -> Step:
        # The REST record stays: its payloads and links are still the step's.
        step = Step(seq, kind, name, attempt, record=known.record if known else None)
        self.steps[seq] = step
        return step

    def _step_completed(self, event: Event) -> Change:
        seq = int(event["seq"])
        step = self.steps.get(seq)
        attempt = int(event.get("attempt", step.attempt if step else 1))
        if step is None or attempt > step.attempt:
            step = self._new_attempt(step, seq, str(event["kind"]), str(event["name"]), attempt)
        elif attempt < step.attempt:
            return NOTHING
        usage = event.get("usage") or {}
        step.kind, step.name = str(event["kind"]), str(event["name"])
        step.status = str(event["status"])
        step.duration_ms = event.get("duration_ms")
        step.input_tokens = int(usage.get("input_tokens", 0))
        step.output_tokens = int(usage.get("output_tokens", 0))
        step.cost_usd = float(event.get("cost_usd") or 0.0)
        step.summary = event.get("summary")
        step.error = event.get("error")
        step.ended_at = event.get("at")
        return Change(frozenset({STEPS}), step)

    def _approval_requested(self, event: Event) -> Change:
        approval_id = str(event["approval_id"])
        if approval_id in self.approvals:
            return NOTHING  # known from a snapshot, perhaps decided already
        approval = self.approvals[approval_id] = Approval(
            approval_id,
            int(event["seq"]),
            str(event["tool_name"]),
            dict(event.get("arguments") or {}),
            run_id=self.run_id,
            expires_at=event.get("expires_at"),
            requested_at=event.get("at"),
        )
        return Change(frozenset({APPROVAL}), approval=approval)

    def _approval_decided(self, event: Event) -> Change:
        approval_id = str(event["approval_id"])
        approval = self.approvals.get(approval_id)
        if approval is None:
            approval = Approval(approval_id, int(event["seq"]), run_id=self.run_id)
            self.approvals[approval_id] = approval
        approval.status = str(event["status"])
        approval.decided_by = event.get("decided_by")
        approval.decided_by_name = event.get("decided_by_name")
        approval.comment = event.get("comment")
        approval.edited_arguments = event.get("arguments")
        approval.decided_at = event.get("at")
        return Change(frozenset({APPROVAL}), approval=approval)

    def _run_completed(self, event: Event) -> Change:
        self.status = str(event["status"])
        self.output, self.error = event.get("output"), event.get("error")
        self.run_usage = _usage(event.get("usage"))
        self.run_cost_usd = float(event.get("cost_usd") or 0.0)
        self.ended_at = self.ended_at or event.get("at")
        self.finished = True  # nothing can be decided on a finished run
        return Change(frozenset({STATUS, APPROVAL, OUTCOME}))

    # A REST snapshot ----------------------------------------------------------------------------
    def seed(
        self,
        run: dict[str, Any] | None = None,
        steps: list[dict[str, Any]] | None = None,
        approvals: list[dict[str, Any]] | None = None,
    ) -> None:
        """Take what the REST API returned (the run, steps, approvals: any of them, each whole
        or in part) as the truth so far; what only the events have told stays."""
        if run is not None:
            self._seed_run(run)
        for record in steps or []:
            self._seed_step(record)
        for record in approvals or []:
            self._seed_approval(record)

    def _seed_run(self, run: dict[str, Any]) -> None:
        self.record = run
        self.run_id = str(run["id"])
        ended = run.get("ended_at") is not None  # every ending sets it: no list of statuses here
        if self.finished and not ended:
            return  # an ending is final: an older answer (e.g. to a cancel) changes nothing
        self.status, self.finished = str(run["status"]), ended
        self.output, self.error = run.get("output"), run.get("error")
        self.run_usage = _usage(run.get("usage"))
        self.run_cost_usd = float(run.get("cost_usd") or 0.0)
        self.created_at = run.get("created_at")
        self.started_at = run.get("started_at") or self.started_at
        self.ended_at = run.get("ended_at") or self.ended_at

    def _seed_step(self, record: dict[str, Any]) -> None:
        seq, attempt = int(record["seq"]), int(record.get("attempt", 1))
        known = self.steps.get(seq)
        same_attempt = known is not None and known.attempt == attempt
        usage = _usage(record.get("usage"))
        self.steps[seq] = Step(
            seq,
            str(record["kind"]),
            str(record["name"]),
            attempt,
            str(record["status"]),
            duration_ms=_milliseconds_between(record.get("started_at"), record.get("ended_at")),
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cost_usd=float(record.get("cost_usd") or 0.0),
            # REST lists no summary and no streamed text: keep the events' word for this attempt.
            summary=known.summary if known is not None and same_attempt else None,
            error=record.get("error"),
            text=known.text if known is not None and same_attempt else "",
            started_at=record.get("started_at"),
            ended_at=record.get("ended_at"),
            record=record,
        )

    def _seed_approval(self, record: dict[str, Any]) -> None:
        approval_id = str(record["id"])
        self.approvals[approval_id] = Approval(
            approval_id,
            int(record.get("step_seq", 0)),
            str(record.get("tool_name", "")),
            dict(record.get("arguments") or {}),
            str(record.get("status", "pending")),
            run_id=str(record.get("run_id") or self.run_id),
            expires_at=record.get("expires_at"),
            requested_at=record.get("requested_at"),
            decided_at=record.get("decided_at"),
            decided_by=record.get("decided_by"),
            decided_by_name=record.get("decided_by_name"),
            comment=record.get("comment"),
            edited_arguments=record.get("edited_arguments"),
            record=record,
        )


def _usage(usage: Any) -> dict[str, int]:
    usage = usage if isinstance(usage, dict) else {}
    return {name: int(usage.get(name, 0)) for name in ("input_tokens", "output_tokens")}


def _milliseconds_between(start: Any, end: Any) -> float | None:
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    except (ValueError, TypeError):  # not ISO 8601, or one with a zone and one without
        return None
    return round(max(elapsed.total_seconds(), 0.0) * 1000, 1)


_HANDLERS = {
    "run.status": RunState._run_status,
    "step.started": RunState._step_started,
    "model.delta": RunState._model_delta,
    "step.completed": RunState._step_completed,
    "approval.requested": RunState._approval_requested,
    "approval.decided": RunState._approval_decided,
    "run.completed": RunState._run_completed,
}
