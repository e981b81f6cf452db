"""The API's vocabulary, read off the code that defines it: what `GET /v1/meta` answers.

Nothing here is a list of its own: every value comes from an enum, a `Literal`, a model's
defaults or a setting, so a client that reads meta never falls behind the API.
"""

import copy
from typing import Any, get_args

from pydantic import BaseModel, Field

from backend.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from backend.settings import Settings
from core.models import ApprovalStatus, Role, RunCreate, RunStatus, StepKind, StepStatus
from core.models.agent_config import (
    BUILTIN_TOOLS,
    HttpMethod,
    Limits,
    ModelProvider,
    Tool,
)
from core.models.limits import (
    DB_INT_MAX,
    JSON_INT_MAX,
    JSON_INT_MIN,
    MAX_ARGUMENTS_BYTES,
    MAX_CONTEXT_BYTES,
    MAX_JSON_DEPTH,
    MAX_METADATA_BYTES,
    MAX_MODEL_PARAMETERS_BYTES,
    MAX_TOOL_PARAMETERS_BYTES,
)
from core.models.model_spec import PROVIDER_PARAMETERS
from core.models.webhook import WEBHOOK_EVENTS


class RunStatuses(BaseModel):
    """Run statuses, all and by whether a run in them has ended."""

    all: list[RunStatus] = Field(description="Every run status, in the order a run meets them.")
    terminal: list[RunStatus] = Field(description="Statuses a run ends in and never leaves.")
    active: list[RunStatus] = Field(description="Statuses of a run that has not ended yet.")


class BuiltinToolSpec(BaseModel):
    """A built-in tool a version may name."""

    name: str = Field(description="The `name` of a `builtin` tool in a configuration.")
    description: str = Field(description="What the model is told the tool does.")
    parameters: dict[str, Any] = Field(description="The JSON schema its arguments must match.")


class RequestLimits(BaseModel):
    """What the API refuses (413 or 422) before any endpoint reads a request."""

    max_request_bytes: int = Field(description="The largest request body (`MAX_REQUEST_BYTES`).")
    max_json_depth: int = Field(description="The deepest nesting of a JSON body.")
    min_json_integer: int = Field(description="The smallest integer anywhere in a JSON body.")
    max_json_integer: int = Field(description="The largest integer anywhere in a JSON body.")
    max_number: int = Field(description="The largest version, step or event number.")
    max_run_input_chars: int = Field(description="The longest `input` of a run.")
    max_context_bytes: int = Field(description="A run's `context`, as serialized JSON.")
    max_metadata_bytes: int = Field(description="A version's `metadata`, as serialized JSON.")
    max_model_parameters_bytes: int = Field(description="`model.parameters`, serialized.")
    max_tool_parameters_bytes: int = Field(description="An HTTP tool's `parameters`, serialized.")
    max_arguments_bytes: int = Field(description="An approval's edited `arguments`, serialized.")
    default_page_size: int = Field(description="Items per page of a list without `?limit=`.")
    max_page_size: int = Field(description="The largest `?limit=` of a list.")


class Meta(BaseModel):
    """The words the API speaks: statuses, kinds, providers, tools, defaults and limits."""

    run_statuses: RunStatuses = Field(description="Run statuses, and which of them are final.")
    step_kinds: list[StepKind] = Field(description="Values of a step's `kind`.")
    step_statuses: list[StepStatus] = Field(description="Values of a step's `status`.")
    approval_statuses: list[ApprovalStatus] = Field(description="Values of an approval's `status`.")
    roles: list[Role] = Field(description="Tenant roles, strongest first.")
    model_providers: list[ModelProvider] = Field(description="Values of `model.provider`.")
    tool_types: list[str] = Field(description="Values of a tool's `type`.")
    builtin_tools: list[BuiltinToolSpec] = Field(
        description="The built-in tools, with what the model is told and their argument schemas."
    )
    http_methods: list[HttpMethod] = Field(description="Values of an HTTP tool's `method`.")
    limit_defaults: Limits = Field(description="The `limits` of a version that sets none.")
    provider_parameters: dict[str, dict[str, Any]] = Field(
        description="By provider, the JSON schema of its `model.parameters` (publishing "
        "refuses what the schema does not allow)."
    )
    request_limits: RequestLimits = Field(description="What every request is held to.")
    webhook_events: list[str] = Field(
        description="What a webhook's `events` may name (`*`: all of them)."
    )


def _tool_types() -> list[str]:
    """The `type` tag of each member of the `Tool` union, in its order."""
    union = get_args(Tool)[0]
    return [get_args(member.model_fields["type"].annotation)[0] for member in get_args(union)]


def _max_length(model: type[BaseModel], field: str) -> int:
    for rule in model.model_fields[field].metadata:
        if hasattr(rule, "max_length"):
            return int(rule.max_length)
    raise LookupError(f"{model.__name__}.{field} has no max_length")


def meta(settings: Settings) -> Meta:
    return Meta(
        run_statuses=RunStatuses(
            all=list(RunStatus),
            terminal=[status for status in RunStatus if status.is_terminal],
            active=[status for status in RunStatus if not status.is_terminal],
        ),
        step_kinds=list(StepKind),
        step_statuses=list(StepStatus),
        approval_statuses=list(ApprovalStatus),
        roles=sorted(Role, key=lambda role: role.rank, reverse=True),
        model_providers=list(get_args(ModelProvider)),
        tool_types=_tool_types(),
        builtin_tools=[
            BuiltinToolSpec(
                name=name,
                description=tool["description"],
                parameters=copy.deepcopy(tool["parameters"]),
            )
            for name, tool in BUILTIN_TOOLS.items()
        ],
        http_methods=list(get_args(HttpMethod)),
        limit_defaults=Limits(),
        provider_parameters={
            provider: parameters.model_json_schema()
            for provider, parameters in PROVIDER_PARAMETERS.items()
        },
        request_limits=RequestLimits(
            max_request_bytes=settings.max_request_bytes,
            max_json_depth=MAX_JSON_DEPTH,
            min_json_integer=JSON_INT_MIN,
            max_json_integer=JSON_INT_MAX,
            max_number=DB_INT_MAX,
            max_run_input_chars=_max_length(RunCreate, "input"),
            max_context_bytes=MAX_CONTEXT_BYTES,
            max_metadata_bytes=MAX_METADATA_BYTES,
            max_model_parameters_bytes=MAX_MODEL_PARAMETERS_BYTES,
            max_tool_parameters_bytes=MAX_TOOL_PARAMETERS_BYTES,
            max_arguments_bytes=MAX_ARGUMENTS_BYTES,
            default_page_size=DEFAULT_PAGE_SIZE,
            max_page_size=MAX_PAGE_SIZE,
        ),
        webhook_events=list(WEBHOOK_EVENTS),
    )
