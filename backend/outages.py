"""A dependency outage answers 503 with the error shape and `Retry-After`, from any endpoint.

The database (also behind authentication), Redis (the event log) and the object store. Errors
that are the request's own (a constraint, a missing object) are not outages.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from backend.errors import ApiError, error_response
from core.objectstore import ObjectNotFoundError, ObjectStoreError

log = logging.getLogger("agent_runtime.api")


def _unavailable(dependency: str, what: str, exc: Exception) -> JSONResponse:
    # The message stays generic: a driver's text can carry the statement and its parameters.
    log.warning("%s unavailable: %s: %s", dependency, type(exc).__name__, exc)
    return error_response(
        ApiError(
            503,
            f"{dependency}_unavailable",
            f"{what} is unreachable; try again shortly",
            {"error": type(exc).__name__},
        )
    )


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError | PoolTimeoutError)
    if isinstance(exc, PoolTimeoutError | OperationalError | InterfaceError) or (
        exc.connection_invalidated
    ):
        return _unavailable("database", "the database", exc)
    raise exc  # not an outage: the unexpected-error handler answers 500


def _redis_error(_request: Request, exc: Exception) -> JSONResponse:
    return _unavailable("redis", "the event log (Redis)", exc)


def _storage_error(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ObjectNotFoundError):
        return error_response(ApiError(404, "not_found", "the content is missing from storage"))
    return _unavailable("storage", "the object store", exc)


def install_outage_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeoutError, _database_error)
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(ObjectStoreError, _storage_error)
