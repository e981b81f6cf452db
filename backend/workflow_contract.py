"""What the control plane and the execution plane agree on: names and the run's input/output.

Kept free of heavy imports: the workflow sandbox passes it through.
"""

from dataclasses import dataclass

TASK_QUEUE = "agent-runs"
WORKFLOW_NAME = "AgentRunWorkflow"
# Tells a waiting run that one of its approvals was decided (the database holds the decision).
APPROVAL_SIGNAL = "approval_decided"


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
