"""The dataclasses activities take and return. Small: references, never transcripts."""

from dataclasses import dataclass, field


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


@dataclass
class ToolStepInput:
    run_id: str
    tenant_id: str
    seq: int
    model_seq: int
    call_index: int


@dataclass
class ToolStepResult:
    seq: int
    ok: bool


@dataclass
class FinishRunInput:
    run_id: str
    tenant_id: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    # (seq, kind, name) of a step the ending cut short; name is empty for model steps.
    in_flight: tuple[int, str, str] | None = None


# Failure types that retrying cannot fix; the workflow ends the run with them.
NON_RETRYABLE_ERRORS = [
    "provider_auth",
    "provider_rejected",
    "bad_config",
    "script_exhausted",
    "scripted_error",
    "run_not_found",
]
