"""Tenants and their API keys."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.auth import Principal
from backend.db import TenantScope, set_scope
from backend.errors import conflict, not_found
from backend.models import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Tenant, TenantCreate
from backend.models.common import utcnow
from backend.pagination import Page, PageParams, paginate
from backend.security import GeneratedKey, display_prefix, generate_key
from backend.services.lookup import get_or_404


def create_tenant(session: Session, data: TenantCreate) -> Tenant:
    if session.exec(select(Tenant).where(Tenant.name == data.name)).first() is not None:
        raise conflict("tenant_exists", f"a tenant named {data.name!r} exists already")
    tenant = Tenant(name=data.name)
    session.add(tenant)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict("tenant_exists", f"a tenant named {data.name!r} exists already") from None
    return tenant


def visible_tenant(session: Session, principal: Principal, tenant_id: str) -> Tenant:
    """A tenant the caller may see: any for platform admins, else only their own (404 otherwise)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or not (principal.platform_admin or tenant.id == principal.tenant_id):
        raise not_found("tenant", tenant_id)
    return tenant


def scope_to(session: Session, principal: Principal, tenant_id: str) -> Tenant:
    tenant = visible_tenant(session, principal, tenant_id)
    set_scope(session, TenantScope(tenant.id))
    return tenant


def key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic.model_validate(key, update={"prefix": display_prefix(key.lookup)})


def create_api_key(
    session: Session,
    tenant: Tenant,
    data: ApiKeyCreate,
    created_by: str,
    platform_admin: bool = False,
    generated: GeneratedKey | None = None,
) -> ApiKeyCreated:
    """Store a new key; `generated` registers one whose secret its holder already has."""
    generated = generated or generate_key()
    key = ApiKey(
        tenant_id=tenant.id,
        name=data.name,
        role=data.role,
        lookup=generated.lookup,
        secret_hash=generated.secret_hash,
        platform_admin=platform_admin,
        created_by=created_by,
    )
    session.add(key)
    session.commit()
    return ApiKeyCreated.model_validate(key_public(key), update={"key": generated.key})


def list_api_keys(session: Session, params: PageParams) -> Page[ApiKeyPublic]:
    return paginate(session, select(ApiKey), col(ApiKey.id), params, key_public, lambda k: k.id)


def revoke_api_key(session: Session, key_id: str) -> ApiKey:
    key = get_or_404(session, ApiKey, key_id, "API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    return key
