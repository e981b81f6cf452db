"""The model a version calls: one configuration per provider, each with typed parameters.

`ModelSpec` picks the provider's model by `provider`; its `parameters` are checked on publish
and read back leniently (see `core.models.parameters`).
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import InitErrorDetails

from core.models.limits import MAX_MODEL_PARAMETERS_BYTES, json_size_at_most
from core.models.parameters import Number, Parameters, ScriptTurn

ModelProvider = Literal["scripted", "openai", "openai_compatible", "anthropic"]
# Request fields the runtime sets itself; a parameter may not override them.
RESERVED_REQUEST_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "stream", "stream_options"}
)


class StrictModel(BaseModel):
    # Strict types: `true` is no integer, `1` or "yes" no boolean, "10" no number.
    model_config = ConfigDict(extra="forbid", strict=True)


Temperature = Annotated[float, Number(ge=0, le=2)]
UnitInterval = Annotated[float, Number(ge=0, le=1)]
Penalty = Annotated[float, Number(ge=-2, le=2)]
PositiveFloat = Annotated[float, Number(gt=0, le=100)]
TokenCount = Annotated[int, Field(ge=1, le=10_000_000)]


def _no_overrides(extra_body: dict[str, Any] | None, typed: set[str]) -> dict[str, Any] | None:
    clash = sorted((RESERVED_REQUEST_FIELDS | typed) & set(extra_body or {}))
    if clash:
        raise ValueError(
            f"{', '.join(clash)} may not be set here: the runtime sets "
            f"{', '.join(sorted(RESERVED_REQUEST_FIELDS))}, and typed parameters are set by name"
        )
    return extra_body


EXTRA_BODY_HELP = (
    "More request fields, sent as given, for options this schema does not list. "
    "May not name a typed parameter or a field the runtime sets (model, messages, tools...)."
)


class OpenAIParameters(Parameters):
    """Chat Completions request options for `openai`; unset ones take OpenAI's defaults."""

    temperature: Temperature | None = Field(
        default=None, description="Sampling temperature, 0 to 2: higher answers more randomly."
    )
    top_p: UnitInterval | None = Field(
        default=None, description="Nucleus sampling: consider only this top probability mass."
    )
    max_tokens: TokenCount | None = Field(
        default=None, description="The most tokens an answer may have (older models)."
    )
    max_completion_tokens: TokenCount | None = Field(
        default=None, description="The most tokens a turn may generate, reasoning included."
    )
    frequency_penalty: Penalty | None = Field(
        default=None, description="-2 to 2: positive values discourage repeating tokens."
    )
    presence_penalty: Penalty | None = Field(
        default=None, description="-2 to 2: positive values encourage new topics."
    )
    seed: int | None = Field(
        default=None, description="Best-effort determinism: same seed and request, same answer."
    )
    stop: str | list[str] | None = Field(
        default=None, description="Up to 4 sequences at which the model stops generating."
    )
    reasoning_effort: str | None = Field(
        default=None,
        max_length=20,
        description="For reasoning models: e.g. `minimal`, `low`, `medium`, `high`.",
    )
    response_format: dict[str, Any] | None = Field(
        default=None,
        description='The answer\'s format, e.g. `{"type": "json_object"}` or a `json_schema`.',
    )
    parallel_tool_calls: bool | None = Field(
        default=None, description="Whether the model may call several tools in one turn."
    )
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = Field(
        default=None, description="`auto`, `none`, `required`, or one named function."
    )
    logit_bias: dict[str, Annotated[int, Field(ge=-100, le=100)]] | None = Field(
        default=None, description="Token id -> bias from -100 (never) to 100 (always)."
    )
    user: str | None = Field(
        default=None, max_length=256, description="An end-user id for OpenAI's abuse monitoring."
    )
    service_tier: str | None = Field(
        default=None, max_length=40, description="The processing tier, e.g. `auto`, `flex`."
    )
    extra_body: dict[str, Any] | None = Field(default=None, description=EXTRA_BODY_HELP)

    @field_validator("stop")
    @classmethod
    def _at_most_four(cls, stop: str | list[str] | None) -> str | list[str] | None:
        if isinstance(stop, list) and len(stop) > 4:
            raise ValueError("at most 4 stop sequences")
        return stop

    @field_validator("extra_body")
    @classmethod
    def _extra_body(cls, extra_body: dict[str, Any] | None) -> dict[str, Any] | None:
        return _no_overrides(extra_body, set(cls.model_fields))


class OpenAICompatibleParameters(OpenAIParameters):
    """Chat Completions options for `openai_compatible` servers (Ollama, vLLM, LM Studio...)."""

    base_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="The server's OpenAI-style API root, e.g. `http://127.0.0.1:11434/v1`; "
        "a run fails without it.",
    )
    top_k: int | None = Field(
        default=None, ge=-1, description="Sample from the K likeliest tokens (-1 or 0: all)."
    )
    min_p: UnitInterval | None = Field(
        default=None, description="Drop tokens less likely than this share of the likeliest."
    )
    repetition_penalty: PositiveFloat | None = Field(
        default=None, description="Above 1 discourages repetition; 1 is neutral."
    )


class AnthropicParameters(Parameters):
    """Messages API request options for `anthropic`; unset ones take Anthropic's defaults."""

    max_tokens: TokenCount | None = Field(
        default=None, description="The most tokens an answer may have; 4096 when unset."
    )
    temperature: UnitInterval | None = Field(
        default=None, description="Sampling temperature, 0 to 1: higher answers more randomly."
    )
    top_p: UnitInterval | None = Field(
        default=None, description="Nucleus sampling: consider only this top probability mass."
    )
    top_k: int | None = Field(
        default=None, ge=0, description="Sample only from the K likeliest tokens."
    )
    stop_sequences: list[str] | None = Field(
        default=None, description="Texts at which the model stops generating."
    )
    tool_choice: dict[str, Any] | None = Field(
        default=None,
        description='How tools are chosen: `{"type": "auto" | "any" | "none"}` or '
        '`{"type": "tool", "name": ...}`.',
    )
    service_tier: str | None = Field(
        default=None, max_length=40, description="e.g. `auto` or `standard_only`."
    )
    extra_body: dict[str, Any] | None = Field(default=None, description=EXTRA_BODY_HELP)

    @field_validator("extra_body")
    @classmethod
    def _extra_body(cls, extra_body: dict[str, Any] | None) -> dict[str, Any] | None:
        return _no_overrides(extra_body, set(cls.model_fields))


class ScriptedParameters(Parameters):
    """The `scripted` provider's options: a fixed script, for demos and tests."""

    script: list[ScriptTurn] | None = Field(
        default=None,
        description="The turns, in order: the N-th model call of the conversation plays turn "
        "N (asking for more fails with `script_exhausted`, unless `repeat`). Unset: the model "
        "echoes the latest user message.",
    )
    repeat: bool = Field(
        default=False, description="After the last turn, start the script again (a demo chat)."
    )


# Capped as serialized JSON before any typed check reads it.
ParametersSize = json_size_at_most(MAX_MODEL_PARAMETERS_BYTES, before=True)
MODEL_NAME_HELP = "The model's name at the provider, e.g. `gpt-4o-mini`."


class ModelSpecBase(StrictModel):
    """The model a version calls."""

    provider: str
    name: str
    parameters: Parameters


class ScriptedModel(ModelSpecBase):
    """A deterministic model that plays `parameters.script`: no API key, tokens are words."""

    provider: Literal["scripted"] = Field(description="`scripted`.")
    name: str = Field(default="", max_length=200, description="Any name; shown on its steps.")
    parameters: Annotated[ScriptedParameters, ParametersSize] = Field(
        default_factory=ScriptedParameters, description="The script."
    )


class OpenAIModel(ModelSpecBase):
    """An OpenAI model (the worker's `OPENAI_API_KEY`, `OPENAI_BASE_URL`)."""

    provider: Literal["openai"] = Field(description="`openai`.")
    name: str = Field(min_length=1, max_length=200, description=MODEL_NAME_HELP)
    parameters: Annotated[OpenAIParameters, ParametersSize] = Field(
        default_factory=OpenAIParameters, description="Chat Completions options."
    )


class OpenAICompatibleModel(ModelSpecBase):
    """A model on a server that speaks OpenAI's Chat Completions (`parameters.base_url`)."""

    provider: Literal["openai_compatible"] = Field(description="`openai_compatible`.")
    name: str = Field(min_length=1, max_length=200, description="The model's name there.")
    parameters: Annotated[OpenAICompatibleParameters, ParametersSize] = Field(
        default_factory=OpenAICompatibleParameters,
        description="The server's URL and Chat Completions options.",
    )


class AnthropicModel(ModelSpecBase):
    """An Anthropic model (the worker's `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`)."""

    provider: Literal["anthropic"] = Field(description="`anthropic`.")
    name: str = Field(min_length=1, max_length=200, description="e.g. `claude-sonnet-4-5`.")
    parameters: Annotated[AnthropicParameters, ParametersSize] = Field(
        default_factory=AnthropicParameters, description="Messages API options."
    )


MODEL_SPECS: dict[str, type[ModelSpecBase]] = {
    "scripted": ScriptedModel,
    "openai": OpenAIModel,
    "openai_compatible": OpenAICompatibleModel,
    "anthropic": AnthropicModel,
}
PROVIDER_PARAMETERS: dict[str, type[Parameters]] = {
    "scripted": ScriptedParameters,
    "openai": OpenAIParameters,
    "openai_compatible": OpenAICompatibleParameters,
    "anthropic": AnthropicParameters,
}


def _by_provider(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """Validate as the provider's own model, so errors name `model.<field>` (no union tag)."""
    if not isinstance(value, dict):
        return handler(value)
    provider = value.get("provider")
    spec = MODEL_SPECS.get(provider) if isinstance(provider, str) else None
    if spec is not None:
        return spec.model_validate(value, context=info.context)
    if "provider" not in value:
        error = InitErrorDetails(type="missing", loc=("provider",), input=value)
    else:
        *others, last = (repr(name) for name in MODEL_SPECS)
        expected = f"{', '.join(others)} or {last}"
        error = InitErrorDetails(
            type="literal_error", loc=("provider",), input=provider, ctx={"expected": expected}
        )
    raise ValidationError.from_exception_data("ModelSpec", [error])


ModelSpec = Annotated[
    ScriptedModel | OpenAIModel | OpenAICompatibleModel | AnthropicModel,
    Field(discriminator="provider"),
    WrapValidator(_by_provider),
]
