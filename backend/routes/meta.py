"""The API's vocabulary (any role): statuses, kinds, providers, tools, defaults and limits."""

from fastapi import APIRouter

from backend.deps import CanRead, SettingsDep
from backend.services import meta as service
from backend.services.meta import Meta

router = APIRouter(prefix="/v1/meta", tags=["meta"])


@router.get("")
def get_meta(settings: SettingsDep, _principal: CanRead) -> Meta:
    """What clients would otherwise hard-code: run, step and approval statuses (which run
    statuses are terminal), roles, model providers, tool types, the built-in tools with their
    argument schemas, HTTP tool methods, the default limits of a version and the limits every
    request is held to."""
    return service.meta(settings)
