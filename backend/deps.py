"""Request dependencies: the database session, the caller, and the caller's tenant scope."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.auth import Authenticator, Principal
from backend.errors import forbidden
from backend.services.run_follow import Sources
from backend.services.schedule_engine import ScheduleEngine
from backend.settings import Settings
from core.db import TenantScope, set_scope
from core.models import Role
from core.objectstore import ObjectStore

bearer = HTTPBearer(auto_error=False, description="An API key (`ark_...`) or an OIDC access token.")
# What LangGraph's SDK sends its API key in; the same keys and tokens as the bearer.
api_key_header = APIKeyHeader(
    name="x-api-key",
    auto_error=False,
    description="An API key (`ark_...`) or an OIDC access token, as LangGraph's SDK sends it.",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_object_store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.object_store
    return store


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_api_key: Annotated[str | None, Depends(api_key_header)],
    x_tenant_id: Annotated[
        str | None,
        Header(description="Platform admins: the tenant (id or name) to act in."),
    ] = None,
) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    token = credentials.credentials if credentials else x_api_key
    return authenticator.authenticate(token, x_tenant_id)


def get_follow_sources(request: Request) -> Sources:
    """What a stream following a run reads: the app's event log, database and authenticator."""
    settings = get_settings(request)
    return Sources(
        request.app.state.event_log,
        request.app.state.engine,
        request.app.state.authenticator,
        settings.sse_heartbeat_seconds,
    )


def get_schedule_engine(request: Request) -> ScheduleEngine:
    return ScheduleEngine(request.app.state.run_engine)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ScheduleEngineDep = Annotated[ScheduleEngine, Depends(get_schedule_engine)]
FollowSourcesDep = Annotated[Sources, Depends(get_follow_sources)]
ObjectStoreDep = Annotated[ObjectStore, Depends(get_object_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_tenant_session(session: SessionDep, principal: PrincipalDep) -> Session:
    """The request's session, scoped to the caller's tenant: routes see nothing else."""
    set_scope(session, TenantScope(principal.tenant_id))
    return session


TenantSessionDep = Annotated[Session, Depends(get_tenant_session)]


def require_role(needed: Role) -> object:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.may(needed):
            raise forbidden(f"this needs the {needed.value} role; you have {principal.role.value}")
        return principal

    return Depends(check)


def require_platform_admin(principal: PrincipalDep) -> Principal:
    if not principal.platform_admin:
        raise forbidden("this needs a platform admin")
    return principal


CanRead = Annotated[Principal, require_role(Role.viewer)]
CanWrite = Annotated[Principal, require_role(Role.developer)]
CanAdminister = Annotated[Principal, require_role(Role.admin)]
PlatformAdmin = Annotated[Principal, Depends(require_platform_admin)]
