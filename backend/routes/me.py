"""The caller: who the API takes them for (any role)."""

from fastapi import APIRouter

from backend.deps import CanRead, SessionDep
from backend.services import me as service
from backend.services.me import Caller

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("")
def get_me(session: SessionDep, principal: CanRead) -> Caller:
    """Who is calling: the subject audit fields record, a name to show, the tenant acted in,
    the role there and whether the caller is a platform admin; for an API key its id, for an
    OIDC token when it expires."""
    return service.describe(session, principal)
