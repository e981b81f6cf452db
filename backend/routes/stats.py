"""Run statistics (any role): what the workbench's dashboard and agent charts are drawn from."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from backend.deps import CanRead, TenantSessionDep
from backend.services import stats as service
from core.models.stats import RunStats

router = APIRouter(prefix="/v1/stats", tags=["stats"])


@router.get("", response_model_by_alias=True)
def get_stats(
    session: TenantSessionDep,
    _principal: CanRead,
    from_: Annotated[
        datetime | None,
        Query(
            alias="from",
            description="Start of the range (ISO 8601, included; naive is UTC). Default: 7 days "
            "before `to`.",
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        Query(
            description="End of the range (ISO 8601, excluded; naive is UTC). Default: now. At "
            f"most {service.MAX_RANGE.days} days after `from`."
        ),
    ] = None,
    agent_id: Annotated[str | None, Query(description="Only this agent's runs.")] = None,
    bucket: Annotated[
        service.Bucket,
        Query(
            description="The size of `series` buckets: a UTC `hour` or `day`; at most "
            f"{service.MAX_BUCKETS} buckets per range."
        ),
    ] = "day",
) -> RunStats:
    """Runs created in [`from`, `to`), in UTC buckets by `created_at`: counts by status, cost,
    tokens and latency percentiles (time waiting for approvals excluded), for the whole range,
    per bucket and per agent, with the agents that failed most."""
    span = service.window(from_, to, bucket)
    return service.run_stats(session, span, agent_id)
