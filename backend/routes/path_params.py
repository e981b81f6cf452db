"""The path parameters the routes share, each described once for the OpenAPI document."""

from typing import Annotated, Literal

from fastapi import Path

from core.models.limits import DB_INT_MAX

TenantId = Annotated[str, Path(description="The tenant's id (`ten_...`).")]
KeyId = Annotated[str, Path(description="The API key's id (`key_...`).")]
AgentId = Annotated[str, Path(description="The agent's id (`agt_...`).")]
RunId = Annotated[str, Path(description="The run's id (`run_...`).")]
ApprovalId = Annotated[str, Path(description="The approval's id (`apr_...`).")]
ArtifactName = Annotated[str, Path(description="The artifact's name within its run.")]
VersionNumber = Annotated[
    int, Path(ge=1, le=DB_INT_MAX, description="The version's number within its agent.")
]
Seq = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="The step's position in the run.")]
PayloadField = Annotated[
    Literal["input", "output"], Path(description="Which of the step's payloads to download.")
]
ThreadId = Annotated[str, Path(description="The thread's id (`thr_...` or the client's own).")]
