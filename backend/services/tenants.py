"""Tenants and their API keys."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend.auth import Principal
from backend.errors import conflict, not_found
from backend.pagination import Page, PageParams, paginate
from backend.security import GeneratedKey, display_prefix, generate_key
from core.db import TenantScope, set_scope
from core.models import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    Tenant,
    TenantCreate,
    TenantUpdate,
)
from core.models.common import utcnow


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


def update_tenant(session: Session, tenant: Tenant, data: TenantUpdate) -> Tenant:
    if data.quotas is not None:
        given = data.quotas.model_dump(include=data.quotas.model_fields_set)
        merged = {**tenant.tenant_quotas().model_dump(), **given}
        tenant.quotas = {name: value for name, value in merged.items() if value is not None}
    session.add(tenant)
    session.commit()
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
    created_by_name: str | None = None,
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
        created_by_name=created_by_name,
    )
    session.add(key)
    session.commit()
    return ApiKeyCreated.model_validate(key_public(key), update={"key": generated.key})


def _keys_visible_to(principal: Principal) -> SelectOfScalar[ApiKey]:
    """Platform admin keys exist for platform admins only: a tenant admin of the tenant that
    holds one can neither see nor revoke it (else they could lock the platform out)."""
    statement = select(ApiKey)
    if not principal.platform_admin:
        statement = statement.where(col(ApiKey.platform_admin).is_(False))
    return statement


def list_api_keys(session: Session, principal: Principal, params: PageParams) -> Page[ApiKeyPublic]:
    statement = _keys_visible_to(principal)
    return paginate(session, statement, col(ApiKey.id), params, key_public, lambda k: k.id)


def revoke_api_key(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = session.exec(_keys_visible_to(principal).where(ApiKey.id == key_id)).first()
    if key is None:
        raise not_found("API key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    return key
