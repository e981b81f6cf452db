"""API keys: tenant-scoped bearer credentials, stored only as hashes."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel, String

from core.ids import new_id
from core.models.common import TenantOwned, UTCDateTime, created_at_field


class Role(StrEnum):
    """Tenant roles, strongest first; a stronger role may do all a weaker one may."""

    admin = "admin"
    developer = "developer"
    viewer = "viewer"

    @property
    def rank(self) -> int:
        return {Role.viewer: 0, Role.developer: 1, Role.admin: 2}[self]

    def allows(self, needed: "Role") -> bool:
        return self.rank >= needed.rank


class ApiKeyBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Field(default=Role.developer)


class ApiKeyCreate(ApiKeyBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class ApiKey(ApiKeyBase, TenantOwned, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=lambda: new_id("key"), primary_key=True, max_length=40)
    role: Role = Field(sa_type=String(20))
    # The public part of the key, used to find its row; the secret part is only hashed.
    lookup: str = Field(unique=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    platform_admin: bool = Field(default=False)
    created_by: str = Field(max_length=200)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(ApiKeyBase):
    id: str
    tenant_id: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    platform_admin: bool
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The secret key. Shown only in this response.")
