"""One error shape everywhere: `{"error": {"code", "message", "details"}}`."""

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.models.agent_config import TOOL_TYPES


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(
        description="Stable and machine-readable, e.g. `validation_error`, `not_found`, "
        "`quota_exceeded`, `database_unavailable`."
    )
    message: str = Field(description="For people: what went wrong (a 422 names the field).")
    details: Any = Field(
        default=None,
        description="More, by code: a 422 lists `{field, location, message, type}` per problem; "
        "a 429 names the quota, its limit and the use.",
    )


class ErrorResponse(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail = Field(description="The error.")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def invalid(
    field: str,
    location: str,
    message: str,
    code: str = "validation_error",
    kind: str | None = None,
) -> ApiError:
    """A 422 in the shape request validation uses, for checks only the service can make."""
    detail = {"field": field, "location": location, "message": message}
    if kind is not None:
        detail["type"] = kind
    return ApiError(422, code, f"{field}: {message}", [detail])


def not_found(kind: str, identifier: object) -> ApiError:
    return ApiError(404, "not_found", f"{kind} {identifier!r} not found")


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


# Documented on every operation so generated clients know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": HTTPStatus(status).phrase}
    for status in (401, 403, 404, 409, 413, 422)
}
ERROR_RESPONSES |= {
    429: {
        "model": ErrorResponse,
        "description": "A tenant quota is used up: retry after `Retry-After` seconds",
    },
    503: {
        "model": ErrorResponse,
        "description": "A dependency (database, event log, storage, engine) is unreachable: "
        "retry after `Retry-After` seconds",
    },
}
# Seconds a client should wait before repeating a request a dependency outage refused.
RETRY_AFTER_SECONDS = 5


def _field_path(location: tuple[Any, ...]) -> tuple[str, str]:
    """("body", "tools", 0, "builtin", "name") -> ("body", "tools.0.name")."""
    where = str(location[0]) if location else "body"
    parts = [
        str(part)
        for index, part in enumerate(location[1:])
        # Pydantic puts the tag of a discriminated union in the path; people don't write it.
        if not (part in TOOL_TYPES and index > 0 and isinstance(location[index], int))
        and part != "[key]"  # a dict key's error: the key names the field already
    ]
    return where, ".".join(parts) or where


def _error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for error in exc.errors():
        where, field = _field_path(tuple(error.get("loc", ())))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        details.append(
            {"field": field, "location": where, "message": message, "type": error.get("type")}
        )
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return JSONResponse(
        status_code=422,
        content=_error_body(
            "validation_error", f"{first['field']}: {first['message']}{more}", details
        ),
    )


def error_response(exc: ApiError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    return JSONResponse(
        status_code=exc.status,
        content=_error_body(exc.code, exc.message, exc.details),
        headers=headers or None,
    )


def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else phrase
    return JSONResponse(
        status_code=exc.status_code,
        content=_error_body(code, message),
        headers=getattr(exc, "headers", None),
    )


def _unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
    # The server logs the traceback; the caller gets the error shape, never a text page.
    return JSONResponse(
        status_code=500,
        content=_error_body("internal_error", "an unexpected error; it has been logged"),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
