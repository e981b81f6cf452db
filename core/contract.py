"""What the control plane and the execution plane agree on: the names on the wire (task queue,
workflow, activities, signal) and the dataclasses workflows and activities take and return.

Kept free of heavy imports: the workflow sandbox passes it through. The names are recorded in
every workflow history, so changing one breaks the replay of runs already under way.
"""

from dataclasses import dataclass, field

TASK_QUEUE = "agent-runs"
WORKFLOW_NAME = "AgentRunWorkflow"
# Tells a waiting run that one of its approvals was decided (the database holds the decision).
APPROVAL_SIGNAL = "approval_decided"

# One activity per step kind, plus the approval bookkeeping and the run's ending.
CALL_MODEL = "call_model"
RUN_TOOL = "run_tool"
REQUEST_APPROVAL = "request_approval"
EXPIRE_APPROVAL = "expire_approval"
FINISH_RUN = "finish_run"
# A schedule's fire: the engine's Schedule starts this workflow, whose one activity records the
# run (or says why none is made) before the run's own workflow runs as its child.
SCHEDULED_RUN_WORKFLOW = "ScheduledRunWorkflow"
FIRE_SCHEDULE = "fire_schedule"


@dataclass
class RunLimits:
    max_steps: int
    max_tokens: int
    max_cost_usd: float | None
    timeout_seconds: int


@dataclass
class AgentRunInput:
    """Small on purpose: the transcript lives in the database, not in workflow history."""

    run_id: str
    tenant_id: str
    limits: RunLimits
    # Continue-as-new after this many steps in one execution, keeping history short.
    steps_per_execution: int = 200
    # Carried across continue-as-new.
    next_seq: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    deadline_epoch_ms: int | None = None


@dataclass
class AgentRunResult:
    run_id: str
    status: str
    steps: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    error_code: str | None = None


@dataclass
class ApprovalDecided:
    approval_id: str
    status: str  # "approved" | "rejected"


# What activities take and return: small, references, never transcripts.
@dataclass
class ModelStepInput:
    run_id: str
    tenant_id: str
    seq: int


@dataclass
class ModelStepResult:
    seq: int
    tool_names: list[str] = field(default_factory=list)
    final: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    # Per tool call: whether a human must approve it before it runs.
    needs_approval: list[bool] = field(default_factory=list)


@dataclass
class ToolStepInput:
    run_id: str
    tenant_id: str
    seq: int
    model_seq: int
    call_index: int
    # Set when the call waited for a decision; the tool step reads the decision from it.
    approval_id: str | None = None


@dataclass
class ApprovalRequestInput:
    run_id: str
    tenant_id: str
    seq: int  # the seq the tool step will have
    model_seq: int
    call_index: int


@dataclass
class ApprovalRequested:
    approval_id: str | None
    expires_epoch_ms: int = 0
    # Set when no wait is needed: already decided (a repeated request), or "not_needed" for a
    # call that cannot run anyway (unknown tool, invalid arguments) and fails in its tool step.
    status: str | None = None


@dataclass
class ApprovalRef:
    run_id: str
    tenant_id: str
    approval_id: str


@dataclass
class ApprovalOutcome:
    status: str  # "approved" | "rejected" | "expired"


@dataclass
class ToolStepResult:
    seq: int
    ok: bool


# A step in flight: (seq, kind, name, started_epoch_ms), name empty for model steps; the start
# is the workflow's clock when it scheduled the step. Histories recorded before the start was
# carried hold three values, and must keep replaying.
InFlight = tuple[int, str, str, int] | tuple[int, str, str]


@dataclass
class FinishRunInput:
    run_id: str
    tenant_id: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    # The step the ending cut short, if any.
    in_flight: InFlight | None = None


@dataclass
class ScheduledRunInput:
    """What the engine's Schedule starts each fire with: which schedule, of which tenant."""

    schedule_id: str
    tenant_id: str


@dataclass
class FireScheduleInput:
    schedule_id: str
    tenant_id: str
    # The fire's workflow id: one run per fire, however often the activity runs.
    fire_id: str
    # When the fire was due (ISO 8601, UTC), as the engine scheduled it.
    scheduled_at: str | None = None


@dataclass
class FireScheduleResult:
    # The run to start, or why the fire made none (the schedule gone, the agent archived...).
    run: AgentRunInput | None = None
    skipped: str | None = None


@dataclass
class ScheduledRunResult:
    schedule_id: str
    run_id: str | None
    # The run's ending; "started" when another starter ran its workflow; "skipped" if none.
    status: str
    skipped: str | None = None


# Failure types that retrying cannot fix; the workflow ends the run with them.
NON_RETRYABLE_ERRORS = [
    "provider_auth",
    "provider_rejected",
    "bad_config",
    "script_exhausted",
    "scripted_error",
    "run_not_found",
]
