"""Domain models: the tables (SQLModel) and the schemas of what they hold.

Importing this package registers every table on `SQLModel.metadata`.
"""

from core.models.agent import Agent, AgentCreate, AgentPublic, AgentUpdate
from core.models.alias import AgentAlias, AliasMove
from core.models.api_key import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Role
from core.models.approval import Approval, ApprovalDecide, ApprovalPublic, ApprovalStatus
from core.models.artifact import Artifact, ArtifactPublic
from core.models.common import TenantOwned
from core.models.event import EventStreamLease, RunEventRow, TraceOutboxRow
from core.models.run import (
    Run,
    RunCreate,
    RunPublic,
    RunStatus,
    RunStep,
    StepKind,
    StepPublic,
    StepStatus,
)
from core.models.schedule import Schedule
from core.models.tenant import (
    Tenant,
    TenantCreate,
    TenantPublic,
    TenantQuotas,
    TenantUpdate,
    TenantUsage,
)
from core.models.thread import (
    MultitaskStrategy,
    Thread,
    ThreadCreate,
    ThreadPublic,
    ThreadRunCreate,
    ThreadStatus,
    ThreadUpdate,
)
from core.models.version import AgentVersion, VersionCreate, VersionPublic
from core.models.webhook import Webhook, WebhookDelivery

__all__ = [
    "Agent",
    "AgentAlias",
    "AgentCreate",
    "AgentPublic",
    "AgentUpdate",
    "AgentVersion",
    "AliasMove",
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "Approval",
    "ApprovalDecide",
    "ApprovalPublic",
    "ApprovalStatus",
    "Artifact",
    "ArtifactPublic",
    "EventStreamLease",
    "MultitaskStrategy",
    "Role",
    "Run",
    "RunCreate",
    "RunEventRow",
    "RunPublic",
    "RunStatus",
    "RunStep",
    "Schedule",
    "StepKind",
    "StepPublic",
    "StepStatus",
    "Tenant",
    "TenantCreate",
    "TenantOwned",
    "TenantPublic",
    "TenantQuotas",
    "TenantUpdate",
    "TenantUsage",
    "Thread",
    "ThreadCreate",
    "ThreadPublic",
    "ThreadRunCreate",
    "ThreadStatus",
    "ThreadUpdate",
    "TraceOutboxRow",
    "VersionCreate",
    "VersionPublic",
    "Webhook",
    "WebhookDelivery",
]
