"""Activities: every piece of I/O of a run, one module per kind of step.

`RunActivities` is what a worker registers: one object holding the shared recorder (database,
object store, event log, caches) whose methods are the activities named in `core.contract`.
"""

from collections.abc import Callable
from typing import Any

from worker.activities.approvals import ApprovalSteps
from worker.activities.finish import FinishSteps
from worker.activities.model import ModelSteps
from worker.activities.schedules import ScheduleSteps
from worker.activities.tool import ToolSteps


class RunActivities(ModelSteps, ToolSteps, ApprovalSteps, FinishSteps, ScheduleSteps):
    def all(self) -> list[Callable[..., Any]]:
        return [
            self.call_model,
            self.run_tool,
            self.request_approval,
            self.expire_approval,
            self.finish_run,
            self.fire_schedule,
        ]


__all__ = ["RunActivities"]
