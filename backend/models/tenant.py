"""Tenants: the isolation boundary every other row belongs to."""

from datetime import datetime

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from backend.ids import new_id
from backend.models.common import created_at_field

TENANT_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"


class TenantBase(SQLModel):
    name: str = Field(
        min_length=1,
        max_length=63,
        schema_extra={"pattern": TENANT_NAME_PATTERN},
        description="Lowercase letters, digits and dashes; unique.",
    )


class TenantCreate(TenantBase):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class Tenant(TenantBase, table=True):
    id: str = Field(default_factory=lambda: new_id("ten"), primary_key=True, max_length=40)
    name: str = Field(unique=True, max_length=63)
    created_at: datetime = created_at_field()


class TenantPublic(TenantBase):
    id: str
    created_at: datetime
