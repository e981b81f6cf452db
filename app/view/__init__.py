"""What the pages show, computed from the API's answers: labels, rows, diffs and chart data.

Pure functions over plain dicts, so they are easy to test and pages stay declarative. Each rule
has one home: `format` (how values are written), `vocabulary` (the API's words), `agents`
(agents, versions, the diff), `runs` (runs, steps, approvals, artifacts), `run_rows` (the run
page's rows from the client's run fold), `run_search` (the runs list's search), `roles` (what a
role may do), `charts` (what the charts draw).
"""

from app.view.agents import (
    VERSION_RECORD_FIELDS,
    AgentRow,
    DiffRow,
    ToolView,
    VersionRow,
    agent_row,
    diff_rows,
    tool_view,
    version_config,
    version_row,
)
from app.view.charts import (
    RunPoint,
    StatusCount,
    WaterfallBar,
    run_points,
    status_counts,
    waterfall,
    waterfall_span,
)
from app.view.format import (
    NONE,
    STATUS_COLORS,
    cost,
    duration,
    error_text,
    file_link,
    parse_time,
    person,
    plural,
    pretty,
    seconds_between,
    short,
    short_id,
    size,
    tokens,
    when,
)
from app.view.roles import WRITER, may, who_may
from app.view.run_rows import approval_row, step_row
from app.view.run_search import SORTS, RunSearch, run_search
from app.view.runs import (
    ApprovalView,
    ArtifactView,
    RunRow,
    StepView,
    approval_view,
    artifact_view,
    rerun_link,
    run_row,
    step_view,
    with_conversation,
)
from app.view.vocabulary import (
    ACTIVE,
    KnownStatuses,
    Vocabulary,
    remember_vocabulary,
    vocabulary,
)

__all__ = [
    "ACTIVE",
    "NONE",
    "SORTS",
    "STATUS_COLORS",
    "VERSION_RECORD_FIELDS",
    "WRITER",
    "AgentRow",
    "ApprovalView",
    "ArtifactView",
    "DiffRow",
    "KnownStatuses",
    "RunPoint",
    "RunRow",
    "RunSearch",
    "StatusCount",
    "StepView",
    "ToolView",
    "VersionRow",
    "Vocabulary",
    "WaterfallBar",
    "agent_row",
    "approval_row",
    "approval_view",
    "artifact_view",
    "cost",
    "diff_rows",
    "duration",
    "error_text",
    "file_link",
    "may",
    "parse_time",
    "person",
    "plural",
    "pretty",
    "remember_vocabulary",
    "rerun_link",
    "run_points",
    "run_row",
    "run_search",
    "seconds_between",
    "short",
    "short_id",
    "size",
    "status_counts",
    "step_row",
    "step_view",
    "tokens",
    "tool_view",
    "version_config",
    "version_row",
    "vocabulary",
    "waterfall",
    "waterfall_span",
    "when",
    "who_may",
    "with_conversation",
]
