"""The tool step: run one tool call the model made (after its approval, where one is needed)
and record its result or the error the model reads."""

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio import activity

from core.contract import RUN_TOOL, ToolStepInput, ToolStepResult
from core.events import RunEvent, step_completed_event, step_started_event
from core.models import Approval, ApprovalStatus, Artifact, RunStep, StepKind, StepStatus
from core.models.agent_config import AgentConfig
from core.models.common import utcnow
from core.objectstore import artifact_key
from worker.activities.recorder import StepRecorder, bind_run
from worker.infra_retry import retry_infrastructure
from worker.tools import ToolContext, execute, tool_spec, validate_arguments
from worker.types import ToolError


class ToolSteps(StepRecorder):
    @activity.defn(name=RUN_TOOL)
    async def run_tool(self, step_input: ToolStepInput) -> ToolStepResult:
        bind_run(step_input.run_id, step_input.tenant_id)
        attempt = activity.info().attempt
        started_at = utcnow()
        seq = step_input.seq

        def begin(
            session: Session,
        ) -> tuple[AgentConfig, RunStep | None, dict[str, Any], Approval | None, list[RunEvent]]:
            facts = self._facts(session, step_input.run_id)
            config = self._version(session, facts.version_id).config
            rows = {
                row.seq: row
                for row in session.exec(
                    select(RunStep).where(
                        RunStep.run_id == facts.run_id,
                        col(RunStep.seq).in_([step_input.model_seq, seq]),
                    )
                )
            }
            self._read_payloads(session, [rows[step_input.model_seq]])
            call = (rows[step_input.model_seq].output or {})["tool_calls"][step_input.call_index]
            approval = (
                session.get(Approval, step_input.approval_id) if step_input.approval_id else None
            )
            existing = rows.get(seq)
            deferred: list[RunEvent] = []
            if existing is None or existing.status == StepStatus.running:
                started = step_started_event(seq, "tool", call["name"], attempt)
                deferred = self._stage(session, facts.run_id, [started])
                session.commit()
            return config, existing, call, approval, deferred

        tenant_id, run_id = step_input.tenant_id, step_input.run_id
        config, existing, call, approval, deferred = await self._db(tenant_id, begin)
        if existing is not None and existing.status != StepStatus.running:
            return ToolStepResult(seq, existing.status == StepStatus.succeeded)
        await self._publish(tenant_id, run_id, deferred)
        tool = config.find_tool(call["name"])
        arguments: dict[str, Any] = call["arguments"]
        recorded_input: dict[str, Any] = {"call_id": call["id"], "arguments": arguments}
        result: Any = None
        error: dict[str, Any] | None = None
        try:
            if tool is None:
                raise ToolError(f"there is no tool named {call['name']!r}")
            if approval is not None:
                recorded_input["approval_id"] = approval.id
                if approval.status != ApprovalStatus.approved:
                    raise _NotApprovedError(_refusal(approval))
                if approval.edited_arguments is not None:
                    arguments = approval.edited_arguments
                    recorded_input["arguments"] = arguments
                    recorded_input["proposed_arguments"] = call["arguments"]
            elif tool.requires_approval:
                # Only a call that cannot run anyway gets here without a decision.
                validate_arguments(tool_spec(tool), arguments)
                raise ToolError(f"{tool.name} needs an approval and has none")
            tool_context = ToolContext(
                step_input.run_id,
                seq,
                tool,
                attempt=attempt,
                allow_private_networks=self.allow_private_networks,
                allow_stdio=self.mcp_allow_stdio,
                artifacts=RunArtifacts(self, step_input.tenant_id, step_input.run_id, seq),
            )
            result = await self._with_heartbeat(
                execute(tool, arguments, tool_context, max_response_bytes=self.max_response_bytes)
            )
        except _NotApprovedError as refusal:
            error = refusal.error
        except ToolError as failure:
            error = {"code": "tool_error", "message": str(failure)}
        step = RunStep(
            run_id=step_input.run_id,
            seq=seq,
            kind=StepKind.tool,
            name=call["name"],
            input=recorded_input,
            status=StepStatus.failed if error else StepStatus.succeeded,
            output=None if error else {"content": result},
            error=error,
            attempt=attempt,
            started_at=started_at,
            worker_build=self.build_id,
            ended_at=utcnow(),
        )
        completed = step_completed_event(step)  # summarised before a large result is offloaded
        await self._save(tenant_id, existing, step, [completed], approval)
        return ToolStepResult(seq, error is None)


@dataclass(frozen=True)
class RunArtifacts:
    """`artifact_write` saves here: the bytes in the object store, a row in the database."""

    activities: StepRecorder
    tenant_id: str
    run_id: str
    seq: int

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        key = artifact_key(self.tenant_id, self.run_id, name)
        await retry_infrastructure(
            lambda: asyncio.to_thread(self.activities.store.put, key, data, content_type),
            "the object store",
        )
        digest = hashlib.sha256(data).hexdigest()

        def record(session: Session) -> None:
            values: dict[str, Any] = {
                "step_seq": self.seq,
                "size": len(data),
                "content_type": content_type,
                "sha256": digest,
                "object_key": key,
            }
            for _attempt in range(2):  # a concurrent first write of the name: update it then
                artifact = session.exec(
                    select(Artifact).where(Artifact.run_id == self.run_id, Artifact.name == name)
                ).first()
                if artifact is None:
                    artifact = Artifact(run_id=self.run_id, name=name, **values)
                else:
                    for field, value in values.items():
                        setattr(artifact, field, value)
                    artifact.created_at = utcnow()
                session.add(artifact)
                try:
                    session.commit()
                    return
                except IntegrityError:
                    session.rollback()
            raise ToolError(f"could not record the artifact {name!r}")

        await self.activities._db(self.tenant_id, record)
        return {
            "name": name,
            "size": len(data),
            "content_type": content_type,
            "sha256": digest,
            "download_url": f"/v1/runs/{self.run_id}/artifacts/{name}",
        }


class _NotApprovedError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.error = error


def _refusal(approval: Approval) -> dict[str, Any]:
    """What the model reads instead of the tool's result when a person said no (or no one did)."""
    if approval.status == ApprovalStatus.rejected:
        reason = f": {approval.comment}" if approval.comment else "."
        return {"code": "approval_rejected", "message": f"A reviewer rejected this call{reason}"}
    if approval.status == ApprovalStatus.expired:
        return {
            "code": "approval_expired",
            "message": "No one decided on this call in time, so it was not run.",
        }
    return {"code": "not_approved", "message": f"This call was not approved ({approval.status})."}
