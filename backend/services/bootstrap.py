"""First start: the `default` tenant and a platform admin key written to a file."""

import os
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from backend.db import AllTenants, scoped_session
from backend.models import ApiKey, Role, Tenant
from backend.models.api_key import ApiKeyCreate
from backend.security import hash_secret, parse_key
from backend.services.tenants import create_api_key

DEFAULT_TENANT = "default"
ADMIN_KEY_NAME = "platform admin (bootstrap)"


def ensure_default_tenant(engine: Engine) -> Tenant:
    with scoped_session(engine, AllTenants()) as session:
        tenant = session.exec(select(Tenant).where(Tenant.name == DEFAULT_TENANT)).first()
        if tenant is None:
            tenant = Tenant(name=DEFAULT_TENANT)
            session.add(tenant)
            session.commit()
        return tenant


def ensure_admin_key(engine: Engine, key_file: Path) -> str:
    """Return the platform admin key, creating it (and its file, mode 0600) on first start.

    A key file whose key the database does not hold (a fresh database) is registered again,
    so the printed key always works.
    """
    tenant = ensure_default_tenant(engine)
    with scoped_session(engine, AllTenants()) as session:
        if key_file.exists():
            key = key_file.read_text().strip()
            parsed = parse_key(key)
            if parsed is not None:
                lookup, secret = parsed
                row = session.exec(select(ApiKey).where(ApiKey.lookup == lookup)).first()
                if row is not None and row.revoked_at is None and row.platform_admin:
                    return key
                if row is None:
                    session.add(
                        ApiKey(
                            tenant_id=tenant.id,
                            name=ADMIN_KEY_NAME,
                            role=Role.admin,
                            lookup=lookup,
                            secret_hash=hash_secret(secret),
                            platform_admin=True,
                            created_by="bootstrap",
                        )
                    )
                    session.commit()
                    return key
        created = create_api_key(
            session,
            tenant,
            ApiKeyCreate(name=ADMIN_KEY_NAME, role=Role.admin),
            created_by="bootstrap",
            platform_admin=True,
        )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(created.key + "\n")
    return created.key
