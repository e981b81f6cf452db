"""Domain models: the tables (SQLModel) and the schemas of what they hold.

Importing this package registers every table on `SQLModel.metadata`.
"""

from backend.models.agent import Agent, AgentCreate, AgentPublic, AgentUpdate
from backend.models.api_key import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Role
from backend.models.approval import Approval, ApprovalStatus
from backend.models.common import TenantOwned
from backend.models.run import (
    Run,
    RunCreate,
    RunPublic,
    RunStatus,
    RunStep,
    StepKind,
    StepPublic,
    StepStatus,
)
from backend.models.tenant import Tenant, TenantCreate, TenantPublic
from backend.models.version import AgentVersion, VersionCreate, VersionPublic

__all__ = [
    "Agent",
    "AgentCreate",
    "AgentPublic",
    "AgentUpdate",
    "AgentVersion",
    "ApiKey",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "Approval",
    "ApprovalStatus",
    "Role",
    "Run",
    "RunCreate",
    "RunPublic",
    "RunStatus",
    "RunStep",
    "StepKind",
    "StepPublic",
    "StepStatus",
    "Tenant",
    "TenantCreate",
    "TenantOwned",
    "TenantPublic",
    "VersionCreate",
    "VersionPublic",
]
