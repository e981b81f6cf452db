"""Prometheus metrics of this API process (workers serve theirs on WORKER_METRICS_PORT)."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend.deps import PlatformAdmin

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(_admin: PlatformAdmin) -> Response:
    """Runs started and finished, event delivery lag. Scrape with a platform admin key."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
