"""`GET /v1/me`: every caller, whatever their role or credential, learns who the API takes them
for, in the words its audit fields use."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.services.bootstrap import ADMIN_KEY_NAME, DEFAULT_TENANT, ensure_admin_key
from tests.conftest import empty_all_tables, make_settings
from tests.helpers import Api
from tests.oidc_provider import AUDIENCE, OidcProvider, running_oidc_provider


@pytest.mark.parametrize("role", ["admin", "developer", "viewer"])
def test_a_key_of_every_role_sees_itself(tenant_a: Api, role: str) -> None:
    key = tenant_a.new_key(str(tenant_a.tenant_id), role=role, name=f"{role} of a")
    caller = Api(tenant_a.client, key["key"])
    me = caller.ok(caller.get("/v1/me"))
    assert me == {
        "subject": f"key:{role} of a",
        "display_name": f"{role} of a",
        "auth_method": "api_key",
        "tenant_id": tenant_a.tenant_id,
        "tenant_name": "tenant-a",
        "role": role,
        "platform_admin": False,
        "key_id": key["id"],
        "expires_at": None,
    }


def test_the_subject_is_what_audit_fields_record(tenant_a: Api) -> None:
    me = tenant_a.ok(tenant_a.get("/v1/me"))
    agent = tenant_a.new_agent()
    assert agent["created_by"] == me["subject"]


def test_the_platform_admin_sees_itself_at_home_and_acting_elsewhere(
    admin: Api, tenant_a: Api
) -> None:
    home = admin.ok(admin.get("/v1/me"))
    assert home["subject"] == f"key:{ADMIN_KEY_NAME}"
    assert home["tenant_name"] == DEFAULT_TENANT
    assert (home["role"], home["platform_admin"], home["auth_method"]) == ("admin", True, "api_key")
    acting = admin.ok(admin.get("/v1/me", headers={"X-Tenant-Id": "tenant-a"}))
    assert (acting["tenant_id"], acting["tenant_name"]) == (tenant_a.tenant_id, "tenant-a")
    assert acting["subject"] == home["subject"]
    assert acting["key_id"] == home["key_id"]


def test_only_platform_admins_may_ask_as_another_tenant(admin: Api, tenant_a: Api) -> None:
    refused = tenant_a.get("/v1/me", headers={"X-Tenant-Id": DEFAULT_TENANT})
    assert refused.status_code == 403
    missing = admin.get("/v1/me", headers={"X-Tenant-Id": "no-such-tenant"})
    assert missing.status_code == 404


def test_no_credentials_or_a_revoked_key_is_401(client: TestClient, tenant_a: Api) -> None:
    missing = client.get("/v1/me")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert client.get("/v1/me", headers={"Authorization": "Bearer ark_nope_nope"}).status_code == (
        401
    )
    key = tenant_a.new_key(str(tenant_a.tenant_id), role="viewer")
    tenant_a.ok(tenant_a.delete(f"/v1/tenants/{tenant_a.tenant_id}/api-keys/{key['id']}"))
    assert Api(client, key["key"]).get("/v1/me").status_code == 401


# OIDC tokens -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with running_oidc_provider(tmp_path_factory.mktemp("oidc-me")) as provider:
        yield provider


@dataclass
class OidcApi:
    """The API accepting the provider's tokens, and the tokens' tenant (`acme`)."""

    client: TestClient
    tenant_id: str

    def me(self, token: str) -> Any:
        return Api(self.client, token).ok(Api(self.client, token).get("/v1/me"))


@pytest.fixture
def oidc_api(database_url: str, tmp_path: Path, oidc: OidcProvider) -> Iterator[OidcApi]:
    settings = make_settings(
        database_url, tmp_path, OIDC_ISSUER=oidc.issuer, OIDC_AUDIENCE=AUDIENCE
    )
    app = create_app(settings)
    with TestClient(app) as client:
        admin = Api(client, ensure_admin_key(app.state.engine, settings.admin_key_file))
        yield OidcApi(client, admin.new_tenant("acme")["id"])
    empty_all_tables(app)
    app.state.engine.dispose()


@pytest.mark.parametrize(
    ("roles", "role", "platform_admin"),
    [
        (["viewer"], "viewer", False),
        (["developer", "viewer"], "developer", False),
        (["admin"], "admin", False),
        (["platform_admin"], "admin", True),
    ],
)
def test_a_token_of_every_role_sees_itself(
    oidc_api: OidcApi, oidc: OidcProvider, roles: list[str], role: str, platform_admin: bool
) -> None:
    expiry = int(time.time()) + 300
    token = oidc.mint(sub="u-123", name="Alice Liddell", roles=roles, exp=expiry)
    me = oidc_api.me(token)
    assert me == {
        "subject": "oidc:u-123",
        "display_name": "Alice Liddell",
        "auth_method": "oidc",
        "tenant_id": oidc_api.tenant_id,
        "tenant_name": "acme",
        "role": role,
        "platform_admin": platform_admin,
        "key_id": None,
        "expires_at": me["expires_at"],
    }
    assert datetime.fromisoformat(me["expires_at"]) == datetime.fromtimestamp(expiry, UTC)


def test_a_token_is_named_by_its_name_else_preferred_username_else_subject(
    oidc_api: OidcApi, oidc: OidcProvider
) -> None:
    def name_of(**claims: Any) -> str:
        return str(oidc_api.me(oidc.mint(sub="u-1", **claims))["display_name"])

    assert name_of(name="Alice Liddell", preferred_username="alice") == "Alice Liddell"
    assert name_of(preferred_username="alice") == "alice"
    assert name_of(name="  ", preferred_username="alice") == "alice"
    assert name_of(name={"given": "Alice"}) == "u-1"
    assert oidc_api.me(oidc.password_token("victor"))["role"] == "viewer"
