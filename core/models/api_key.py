"""API keys: tenant-scoped bearer credentials, stored only as hashes."""

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel, String

from core.ids import new_id
from core.models.common import (
    CREATED_BY_HELP,
    CREATED_BY_NAME_HELP,
    CreatedByName,
    TenantOwned,
    UTCDateTime,
    created_at_field,
)


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
    name: str = Field(
        min_length=1,
        max_length=200,
        description="What the key is for; audit fields name its holder `key:<name>`.",
    )
    role: Role = Field(default=Role.developer, description="What the key may do in its tenant.")


class ApiKeyCreate(ApiKeyBase):
    """A new API key of the tenant: its name and role."""

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
    created_by_name: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiKeyPublic(ApiKeyBase):
    """An API key, without its secret."""

    id: str = Field(description="The key's id (`key_...`), to revoke it by.")
    tenant_id: str = Field(description="The tenant the key acts in.")
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    platform_admin: bool = Field(
        description="May manage tenants and act in any of them (`X-Tenant-Id`)."
    )
    created_by: str = Field(description=CREATED_BY_HELP)
    created_by_name: CreatedByName = Field(description=CREATED_BY_NAME_HELP)
    created_at: datetime = Field(description="When it was created (UTC).")
    revoked_at: datetime | None = Field(
        description="When it was revoked (UTC); null while it works."
    )


class ApiKeyCreated(ApiKeyPublic):
    """A key just created, with its secret: the only answer that ever shows it."""

    key: str = Field(description="The secret key. Shown only in this response.")
