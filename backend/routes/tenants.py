"""Tenants (platform admins) and their API keys (platform admins, or the tenant's own admins)."""

from fastapi import APIRouter, Depends, status
from sqlmodel import col, select

from backend.deps import CanAdminister, CanRead, PlatformAdmin, SessionDep
from backend.pagination import Page, PageParams, page_params, paginate
from backend.routes.path_params import KeyId, TenantId
from backend.services import quotas
from backend.services import tenants as service
from core.db import TenantScope, set_scope
from core.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    Tenant,
    TenantCreate,
    TenantPublic,
    TenantUpdate,
    TenantUsage,
)

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
Paging = Depends(page_params)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, session: SessionDep, _admin: PlatformAdmin) -> TenantPublic:
    """Create a tenant (platform admins only)."""
    return TenantPublic.model_validate(service.create_tenant(session, body))


@router.get("")
def list_tenants(
    session: SessionDep, principal: CanRead, params: PageParams = Paging
) -> Page[TenantPublic]:
    """Every tenant for platform admins; a tenant user sees only their own."""
    statement = select(Tenant)
    if not principal.platform_admin:
        statement = statement.where(Tenant.id == principal.tenant_id)
    return paginate(
        session, statement, col(Tenant.id), params, TenantPublic.model_validate, lambda t: t.id
    )


@router.get("/{tenant_id}")
def get_tenant(tenant_id: TenantId, session: SessionDep, principal: CanRead) -> TenantPublic:
    """One tenant and its quotas: any tenant for platform admins, else the caller's own."""
    return TenantPublic.model_validate(service.visible_tenant(session, principal, tenant_id))


@router.patch("/{tenant_id}")
def update_tenant(
    tenant_id: TenantId, body: TenantUpdate, session: SessionDep, principal: PlatformAdmin
) -> TenantPublic:
    """Set a tenant's quotas (platform admins). Quotas given replace those set; null makes one
    unlimited; those not given stay."""
    tenant = service.visible_tenant(session, principal, tenant_id)
    return TenantPublic.model_validate(service.update_tenant(session, tenant, body))


@router.get("/{tenant_id}/usage")
def get_usage(tenant_id: TenantId, session: SessionDep, principal: CanRead) -> TenantUsage:
    """What the tenant uses now and today (UTC), beside its quotas."""
    tenant = service.visible_tenant(session, principal, tenant_id)
    set_scope(session, TenantScope(tenant.id))
    return quotas.usage(session, tenant)


@router.post("/{tenant_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(
    tenant_id: TenantId, body: ApiKeyCreate, session: SessionDep, principal: CanAdminister
) -> ApiKeyCreated:
    """Create a key; the secret is in this response only, as `key`."""
    tenant = service.scope_to(session, principal, tenant_id)
    return service.create_api_key(
        session,
        tenant,
        body,
        created_by=principal.subject,
        created_by_name=principal.display_name or None,
    )


@router.get("/{tenant_id}/api-keys")
def list_api_keys(
    tenant_id: TenantId, session: SessionDep, principal: CanAdminister, params: PageParams = Paging
) -> Page[ApiKeyPublic]:
    """The tenant's keys, newest first, revoked ones included, never their secrets (platform
    admin keys only to platform admins)."""
    service.scope_to(session, principal, tenant_id)
    return service.list_api_keys(session, principal, params)


@router.delete("/{tenant_id}/api-keys/{key_id}")
def revoke_api_key(
    tenant_id: TenantId, key_id: KeyId, session: SessionDep, principal: CanAdminister
) -> ApiKeyPublic:
    """Revoke a key: it stops working at once, its open event streams close. Revoking twice is
    harmless. Platform admin keys are listed and revoked by platform admins only."""
    service.scope_to(session, principal, tenant_id)
    return service.key_public(service.revoke_api_key(session, principal, key_id))
