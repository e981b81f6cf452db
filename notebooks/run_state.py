"""What a run looks like so far, folded from its events; no widgets, no I/O, no threads."""

from dataclasses import asdict, dataclass, field
from typing import Any

Event = dict[str, Any]

# The parts of the view an event changes, so a widget redraws only those.
STATUS, STEPS, TEXT, APPROVAL, OUTCOME = "status", "steps", "text", "approval", "outcome"


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


@dataclass
class StreamedText:
    attempt: int
    text: str = ""


@dataclass
class RunState:
    """Apply the run's events in order; read steps, streamed text, approvals and the outcome."""

    status: str = "queued"
    events: list[Event] = field(default_factory=list)
    steps: dict[int, Step] = field(default_factory=dict)
    streamed: dict[int, StreamedText] = field(default_factory=dict)  # by step seq
    pending_approvals: dict[str, Event] = field(default_factory=dict)  # by approval id
    outcome: Event | None = None  # the run.completed event

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def text(self) -> str:
        """The text the model streamed, step after step."""
        parts = (self.streamed[seq].text for seq in sorted(self.streamed))
        return "\n\n".join(part for part in parts if part)

    @property
    def pending_approval(self) -> Event | None:
        return next(iter(self.pending_approvals.values()), None)

    def step_list(self) -> list[dict[str, Any]]:
        return [asdict(self.steps[seq]) for seq in sorted(self.steps)]

    def apply(self, event: Event) -> set[str]:
        """Fold one event in; returns the parts of the view that changed."""
        self.events.append(event)
        handler = _HANDLERS.get(event.get("type", ""))
        return handler(self, event) if handler else set()

    def _run_status(self, event: Event) -> set[str]:
        self.status = event["status"]
        return {STATUS}

    def _step_started(self, event: Event) -> set[str]:
        seq, attempt = event["seq"], event.get("attempt", 1)
        self.steps[seq] = Step(seq, event["kind"], event["name"], attempt)
        changed = {STEPS}
        streamed = self.streamed.get(seq)
        if streamed is not None and attempt > streamed.attempt:
            del self.streamed[seq]  # a retry: the failed attempt's partial text is void
            changed.add(TEXT)
        return changed

    def _model_delta(self, event: Event) -> set[str]:
        seq, attempt = event["seq"], event.get("attempt", 1)
        streamed = self.streamed.get(seq)
        if streamed is None or attempt > streamed.attempt:
            streamed = self.streamed[seq] = StreamedText(attempt)
        elif attempt < streamed.attempt:
            return set()  # late text from an attempt already superseded
        streamed.text += event["text"]
        return {TEXT}

    def _step_completed(self, event: Event) -> set[str]:
        seq = event["seq"]
        step = self.steps.get(seq) or Step(seq, event["kind"], event["name"])
        usage = event.get("usage") or {}
        step.attempt = event.get("attempt", step.attempt)
        step.status = event["status"]
        step.duration_ms = event.get("duration_ms")
        step.input_tokens = usage.get("input_tokens", 0)
        step.output_tokens = usage.get("output_tokens", 0)
        step.cost_usd = event.get("cost_usd") or 0.0
        step.summary = event.get("summary")
        step.error = event.get("error")
        self.steps[seq] = step
        return {STEPS}

    def _approval_requested(self, event: Event) -> set[str]:
        self.pending_approvals[event["approval_id"]] = event
        return {APPROVAL}

    def _approval_decided(self, event: Event) -> set[str]:
        self.pending_approvals.pop(event["approval_id"], None)
        return {APPROVAL}

    def _run_completed(self, event: Event) -> set[str]:
        self.status = event["status"]
        self.outcome = event
        self.pending_approvals.clear()  # nothing can be decided on a finished run
        return {STATUS, APPROVAL, OUTCOME}


_HANDLERS = {
    "run.status": RunState._run_status,
    "step.started": RunState._step_started,
    "model.delta": RunState._model_delta,
    "step.completed": RunState._step_completed,
    "approval.requested": RunState._approval_requested,
    "approval.decided": RunState._approval_decided,
    "run.completed": RunState._run_completed,
}
