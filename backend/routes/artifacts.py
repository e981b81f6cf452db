"""Files a run saved, and step payloads too large to travel inline: listed and downloaded."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from backend.deps import CanRead, ObjectStoreDep, TenantSessionDep
from backend.pagination import Page, PageParams, page_params
from backend.routes.path_params import ArtifactName, PayloadField, RunId, Seq
from backend.services import artifacts as service
from backend.services import prompts
from backend.services.runs import get_run
from core.models import ArtifactPublic, StepPublic

router = APIRouter(tags=["artifacts"])
Paging = Annotated[PageParams, Depends(page_params)]
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The content"}
}


@router.get("/v1/runs/{run_id}/artifacts")
def list_artifacts(
    run_id: RunId, session: TenantSessionDep, _principal: CanRead, params: Paging
) -> Page[ArtifactPublic]:
    """By name."""
    return service.list_artifacts(session, run_id, params)


@router.get(
    "/v1/runs/{run_id}/artifacts/{name}", response_class=StreamingResponse, responses=DOWNLOAD
)
def download_artifact(
    run_id: RunId,
    name: ArtifactName,
    session: TenantSessionDep,
    _principal: CanRead,
    store: ObjectStoreDep,
) -> StreamingResponse:
    """The file, streamed, with the content type it was saved with."""
    artifact = service.get_artifact(session, run_id, name)
    chunks = service.open_object(store, artifact.object_key, f"artifact {name!r}")
    return StreamingResponse(
        chunks,
        media_type=artifact.content_type,
        headers={
            "Content-Length": str(artifact.size),
            "Content-Disposition": f'attachment; filename="{artifact.name}"',
            "ETag": f'"{artifact.sha256}"',
        },
    )


@router.get("/v1/runs/{run_id}/steps/{seq}", tags=["runs"])
def get_step(
    run_id: RunId, seq: Seq, session: TenantSessionDep, _principal: CanRead, store: ObjectStoreDep
) -> StepPublic:
    """One step, with payloads kept in the object store read back in; a model step with the
    full request its provider was sent (`request`)."""
    step = service.get_step(session, run_id, seq)
    public = service.resolved_step(store, step)
    public.request = prompts.model_request(session, store, get_run(session, run_id), step)
    return public


@router.get(
    "/v1/runs/{run_id}/steps/{seq}/{field}",
    tags=["runs"],
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}, "description": "The payload"}},
)
def download_step_payload(
    run_id: RunId,
    seq: Seq,
    field: PayloadField,
    session: TenantSessionDep,
    _principal: CanRead,
    store: ObjectStoreDep,
) -> StreamingResponse:
    """A step's input or output as JSON, streamed: for payloads too large to read inline."""
    step = service.get_step(session, run_id, seq)
    return StreamingResponse(
        service.payload_chunks(store, step, field), media_type="application/json"
    )
