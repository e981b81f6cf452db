"""Who the caller is, as the API sees them: what `GET /v1/me` answers."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session

from backend.auth import Principal
from core.models import Role, Tenant


class Caller(BaseModel):
    """The caller of this request: who, in which tenant, with which role."""

    subject: str = Field(
        description="As audit fields (`created_by`, `decided_by`) record the caller: "
        "`key:<key name>` or `oidc:<token subject>`."
    )
    display_name: str = Field(
        description="For people to read: the API key's name, or the token's `name` "
        "(else `preferred_username`) claim."
    )
    auth_method: Literal["api_key", "oidc"] = Field(description="What the bearer token was.")
    tenant_id: str = Field(
        description="The tenant the caller acts in (a platform admin's `X-Tenant-Id`, if sent)."
    )
    tenant_name: str = Field(description="That tenant's name.")
    role: Role = Field(description="The caller's role in that tenant.")
    platform_admin: bool = Field(description="May manage tenants and act in any of them.")
    key_id: str | None = Field(default=None, description="The API key used; null for a token.")
    expires_at: datetime | None = Field(
        default=None,
        description="When the credential stops working by itself: an OIDC token's `exp`. "
        "API keys do not expire (null); they work until revoked.",
    )


def describe(session: Session, principal: Principal) -> Caller:
    # The tenant was found when the caller was authenticated: it exists.
    tenant = session.get(Tenant, principal.tenant_id)
    return Caller(
        subject=principal.subject,
        display_name=principal.display_name or principal.subject.partition(":")[2],
        auth_method="api_key" if principal.key_id is not None else "oidc",
        tenant_id=principal.tenant_id,
        tenant_name=tenant.name if tenant is not None else "",
        role=principal.role,
        platform_admin=principal.platform_admin,
        key_id=principal.key_id,
        expires_at=principal.expires_at,
    )
