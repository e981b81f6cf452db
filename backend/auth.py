"""Who is calling: API keys and OIDC access tokens become one `Principal`."""

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from backend.errors import forbidden, not_found, unauthorized
from backend.security import parse_key, secret_matches
from backend.settings import Settings
from core.db import AllTenants, set_scope
from core.models import ApiKey, Role, Tenant
from core.models.common import utcnow


@dataclass(frozen=True)
class Principal:
    """The caller, acting in one tenant with one role."""

    # Audit fields record this: `key:<key name>` or `oidc:<token subject>`, never ambiguous.
    subject: str
    tenant_id: str
    role: Role
    platform_admin: bool = False
    # The API key used, so its revocation can end what it opened (streams).
    key_id: str | None = None
    # When the OIDC token used expires; what it opened (streams) ends then.
    expires_at: datetime | None = None
    # For people to read: the key's name, or the token's name (or preferred_username) claim.
    display_name: str = ""

    def may(self, needed: Role) -> bool:
        return self.platform_admin or self.role.allows(needed)


class OidcVerifier:
    """Validates access tokens against the issuer's discovery document and JWKS."""

    def __init__(self, settings: Settings) -> None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise ValueError("OIDC_ISSUER and OIDC_AUDIENCE must both be set")
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.audience = settings.oidc_audience
        self.algorithms = list(settings.oidc_algorithms)
        if any(alg.lower() == "none" for alg in self.algorithms):
            raise ValueError("OIDC_ALGORITHMS may not allow 'none'")
        self.leeway = settings.oidc_leeway_seconds
        self.refresh_interval = settings.oidc_jwks_refresh_seconds
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0

    def _fetch_keys(self) -> KeySet:
        with httpx.Client(timeout=10) as http:
            if self._jwks_uri is None:
                discovery = http.get(f"{self.issuer}/.well-known/openid-configuration")
                discovery.raise_for_status()
                document = discovery.json()
                if document.get("issuer", "").rstrip("/") != self.issuer:
                    raise unauthorized("the OIDC discovery document names another issuer")
                self._jwks_uri = document["jwks_uri"]
            response = http.get(self._jwks_uri)
            response.raise_for_status()
            return KeySet.import_key_set(response.json())

    def _key_set(self, refresh: bool) -> KeySet:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.refresh_interval
            # An unknown key id triggers one refetch (keys rotate), at most once per interval.
            if self._keys is None or (refresh and stale):
                try:
                    self._keys = self._fetch_keys()
                except httpx.HTTPError as exc:
                    if self._keys is None:
                        raise unauthorized(f"the OIDC issuer is unreachable: {exc}") from None
                self._fetched_at = time.monotonic()
            return self._keys

    def verify(self, token: str) -> dict[str, Any]:
        try:
            try:
                decoded = jwt.decode(
                    token, self._key_set(refresh=False), algorithms=self.algorithms
                )
            except JoseError as exc:
                if exc.error != "invalid_key_id":
                    raise
                decoded = jwt.decode(token, self._key_set(refresh=True), algorithms=self.algorithms)
            registry = jwt.JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise unauthorized(f"invalid access token: {exc}") from None
        return dict(decoded.claims)


def claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class Authenticator:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.oidc = OidcVerifier(settings) if settings.oidc_issuer else None

    def authenticate(self, token: str | None, acting_tenant: str | None) -> Principal:
        if not token:
            raise unauthorized(
                "missing credentials: send 'Authorization: Bearer <token>' or 'x-api-key: <key>'"
            )
        # A fresh session: nothing loaded across tenants here may linger in the request's session.
        with Session(self.engine) as session:
            set_scope(session, AllTenants())
            parsed = parse_key(token)
            if parsed is not None:
                principal = self._from_api_key(session, *parsed)
            elif self.oidc is not None:
                claims = self.oidc.verify(token)
                principal = replace(self._from_claims(session, claims), expires_at=_expiry(claims))
            else:
                raise unauthorized("invalid API key")
            if acting_tenant and acting_tenant != principal.tenant_id:
                if not principal.platform_admin:
                    raise forbidden("only platform admins may act in another tenant")
                tenant = _find_tenant(session, acting_tenant)
                if tenant is None:
                    raise not_found("tenant", acting_tenant)
                principal = replace(principal, tenant_id=tenant.id, role=Role.admin)
            return principal

    def still_valid(self, principal: Principal) -> bool:
        """Whether the credential behind `principal` still holds: its API key is not revoked
        (one primary-key read), its OIDC token has not expired."""
        if principal.expires_at is not None and utcnow() >= principal.expires_at:
            return False
        if principal.key_id is None:
            return True
        with Session(self.engine) as session:
            set_scope(session, AllTenants())
            key = session.get(ApiKey, principal.key_id)
            return key is not None and key.revoked_at is None

    def _from_api_key(self, session: Session, lookup: str, secret: str) -> Principal:
        key = session.exec(select(ApiKey).where(ApiKey.lookup == lookup)).first()
        if key is None or not secret_matches(secret, key.secret_hash):
            raise unauthorized("invalid API key")
        if key.revoked_at is not None:
            raise unauthorized("this API key has been revoked")
        assert key.tenant_id is not None
        return Principal(
            f"key:{key.name}",
            key.tenant_id,
            Role(key.role),
            key.platform_admin,
            key.id,
            display_name=key.name,
        )

    def _from_claims(self, session: Session, claims: dict[str, Any]) -> Principal:
        raw_roles = claim(claims, self.settings.oidc_roles_claim)
        if raw_roles is None:
            raw_roles = []
        elif isinstance(raw_roles, str):
            raw_roles = [raw_roles]
        # Only a list of strings (or one string) grants roles: an object's keys, say, never do.
        if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
            raise forbidden(
                f"the token's '{self.settings.oidc_roles_claim}' claim must be a list of strings"
            )
        roles = set(raw_roles)
        platform_admin = self.settings.oidc_platform_admin_role in roles
        tenant_ref = claim(claims, self.settings.oidc_tenant_claim)
        if not isinstance(tenant_ref, str) or not tenant_ref:
            raise forbidden(f"the token carries no '{self.settings.oidc_tenant_claim}' claim")
        tenant = _find_tenant(session, tenant_ref)
        if tenant is None:
            raise forbidden(f"the token's tenant {tenant_ref!r} is not known here")
        granted = [role for role in Role if role.value in roles]
        if platform_admin:
            role = Role.admin
        elif granted:
            role = max(granted, key=lambda r: r.rank)
        else:
            raise forbidden("the token grants none of the roles admin, developer, viewer")
        return Principal(
            f"oidc:{claims['sub']}",
            tenant.id,
            role,
            platform_admin,
            display_name=_display_name(claims),
        )


def _display_name(claims: dict[str, Any]) -> str:
    """The token's `name`, else `preferred_username`, else its subject: the first that is text."""
    for name in ("name", "preferred_username", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return str(claims["sub"])


def _expiry(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(claims["exp"]), UTC)  # `verify` requires `exp`


def _find_tenant(session: Session, id_or_name: str) -> Tenant | None:
    return session.exec(
        select(Tenant).where(or_(Tenant.id == id_or_name, Tenant.name == id_or_name))
    ).first()
