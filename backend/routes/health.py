"""Liveness and readiness; the only endpoints without auth."""

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.deps import EngineDep
from core.migrate import alembic_config

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
def readyz(engine: EngineDep) -> JSONResponse:
    """The database is reachable and its schema is at the code's migration head."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_heads()
    except SQLAlchemyError as exc:
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
        )
    heads = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_heads()
    if set(current) != set(heads):
        return JSONResponse(
            status_code=503,
            content={
                "status": "unavailable",
                "database": "migrations pending: run `agent-runtime migrate`",
            },
        )
    return JSONResponse(content={"status": "ok", "database": "ok"})
