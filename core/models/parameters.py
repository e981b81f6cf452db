"""Typed model parameters: strict when a version is published, lenient when it is read back.

Publishing validates without context: an unknown key or a value of the wrong type is an error
naming it. A configuration read back from the database is validated with `STORED` as context:
what an earlier release accepted still loads, and a value that no longer fits its type is kept
as it was written (the worker passes it on as before). Parameters serialize exactly as given,
unset fields left out, so the content hash of a stored configuration never changes.

The scripted provider's script format lives here too: its turns are parameters like any other.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, core_schema

# The validation context of configurations read back from the database.
STORED: dict[str, bool] = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("stored"))


def _details(exc: ValidationError) -> list[InitErrorDetails]:
    details = []
    for error in exc.errors():
        detail = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
    return details


class Parameters(BaseModel):
    """Typed provider parameters: checked on publish, kept as given when read back."""

    # `allow` carries what a stored configuration holds beyond the types; publishing refuses it.
    model_config = ConfigDict(
        extra="allow", strict=True, json_schema_extra={"additionalProperties": False}
    )

    @model_validator(mode="wrap")
    @classmethod
    def _checked_or_kept(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        unknown = [key for key in data if key not in cls.model_fields]
        if is_stored(info):
            try:
                return handler(data)
            except ValidationError as exc:
                misfits = {error["loc"][0] for error in exc.errors() if error["loc"]}
                model = handler({k: v for k, v in data.items() if k not in misfits})
                assert model.__pydantic_extra__ is not None
                model.__pydantic_extra__.update({k: data[k] for k in data if k in misfits})
                return model
        errors: list[InitErrorDetails] = []
        try:
            model = handler({k: v for k, v in data.items() if k not in unknown})
        except ValidationError as exc:
            errors = _details(exc)
        errors += [
            InitErrorDetails(type="extra_forbidden", loc=(key,), input=data[key]) for key in unknown
        ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return model

    # No return annotation: pydantic then documents the model's own schema for output too.
    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        dumped = handler(self)
        given = self.model_fields_set | set(self.model_extra or {})
        return {key: value for key, value in dumped.items() if key in given}

    def legacy(self) -> dict[str, Any]:
        """What a stored configuration holds beyond the types, as it was written."""
        return dict(self.model_extra or {})


@dataclass(frozen=True)
class Number:
    """A number within bounds, kept as written: `0` stays `0`, never `0.0`, so a stored
    configuration serializes (and hashes) as it was published."""

    ge: float | None = None
    le: float | None = None
    gt: float | None = None

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        checked = core_schema.float_schema(ge=self.ge, le=self.le, gt=self.gt, strict=True)
        return core_schema.no_info_wrap_validator_function(
            _checked_as_written,
            checked,
            serialization=core_schema.plain_serializer_function_ser_schema(_as_written),
        )

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        bounds = {"minimum": self.ge, "maximum": self.le, "exclusiveMinimum": self.gt}
        return {"type": "number", **{k: v for k, v in bounds.items() if v is not None}}


def _checked_as_written(value: Any, check: ValidatorFunctionWrapHandler) -> Any:
    check(value)
    return value


def _as_written(value: Any) -> Any:
    return value


Seconds = Annotated[float, Number(ge=0, le=3600)]


class ScriptToolCall(Parameters):
    """A tool call a script turn makes, as a real model's would be."""

    name: str = Field(
        min_length=1, max_length=200, description="The tool, by its name in the version's tools."
    )
    arguments: dict[str, Any] = Field(
        default_factory=dict, description="Its arguments, checked against the tool's schema."
    )


class ScriptError(Parameters):
    """Makes a script turn fail instead of answering."""

    message: str = Field(
        default="scripted failure", description="The error the step (and the run) records."
    )
    retryable: bool = Field(
        default=False,
        description="Whether the engine retries the turn (it fails the same way every time).",
    )
    code: str = Field(default="scripted_error", max_length=100, description="The error's `code`.")


class ScriptUsage(Parameters):
    """Token counts a script turn reports instead of counting words."""

    input_tokens: int | None = Field(
        default=None, ge=0, description="Tokens in; unset: the words of the transcript."
    )
    output_tokens: int | None = Field(
        default=None, ge=0, description="Tokens out; unset: the words of the answer."
    )


class ScriptTurn(Parameters):
    """One model turn of a script: a final answer, tool calls, or a failure."""

    text: str | None = Field(
        default=None,
        description="What the model says: the final answer, or with `tool_calls` the text "
        "before them. Neither set: an empty answer. `{last_user}`, `{user_messages}` (every "
        "user message of the conversation, joined by ` | `) and `{user_count}` are filled in.",
    )
    tool_calls: list[ScriptToolCall] = Field(
        default_factory=list,
        description="Tools to call; the run calls them and asks for the next turn.",
    )
    delay_seconds: Seconds = Field(
        default=0, description="Seconds the turn takes before it answers or fails."
    )
    chunk_delay_seconds: Seconds = Field(
        default=0, description="Streamed, seconds between the words of `text`."
    )
    error: ScriptError | None = Field(
        default=None, description="Fail the turn with this error instead of answering."
    )
    usage: ScriptUsage | None = Field(
        default=None, description="Report these token counts instead of counting words."
    )
