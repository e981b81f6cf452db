from fastapi.testclient import TestClient

from tests.helpers import Api, error_fields


def test_platform_admin_creates_and_lists_tenants(admin: Api) -> None:
    created = admin.new_tenant("acme")
    assert created["name"] == "acme"
    assert created["id"].startswith("ten_")
    names = [t["name"] for t in admin.ok(admin.get("/v1/tenants"))["items"]]
    assert set(names) == {"default", "acme"}
    assert admin.ok(admin.get(f"/v1/tenants/{created['id']}"))["name"] == "acme"


def test_tenant_names_are_unique_and_validated(admin: Api) -> None:
    admin.new_tenant("acme")
    duplicate = admin.post("/v1/tenants", json={"name": "acme"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "tenant_exists"
    bad = admin.post("/v1/tenants", json={"name": "Not A Slug!"})
    assert bad.status_code == 422
    assert error_fields(bad) == ["name"]
    unknown = admin.post("/v1/tenants", json={"name": "ok", "plan": "gold"})
    assert unknown.status_code == 422
    assert error_fields(unknown) == ["plan"]


def test_tenant_users_see_only_their_own_tenant(admin: Api, tenant_a: Api, tenant_b: Api) -> None:
    listed = tenant_a.ok(tenant_a.get("/v1/tenants"))["items"]
    assert [t["id"] for t in listed] == [tenant_a.tenant_id]
    assert tenant_a.get(f"/v1/tenants/{tenant_b.tenant_id}").status_code == 404
    refused = tenant_a.post("/v1/tenants", json={"name": "mine"})
    assert refused.status_code == 403


def test_api_key_secret_is_shown_once_and_stored_hashed(admin: Api, tenant_a: Api) -> None:
    created = tenant_a.new_key(str(tenant_a.tenant_id), role="viewer", name="ci")
    assert created["key"].startswith(created["prefix"] + "_")
    listed = tenant_a.ok(tenant_a.get(f"/v1/tenants/{tenant_a.tenant_id}/api-keys"))["items"]
    mine = next(k for k in listed if k["id"] == created["id"])
    assert "key" not in mine
    assert mine["role"] == "viewer"
    secret = created["key"].removeprefix(created["prefix"] + "_")
    assert secret not in str(listed)
    assert Api(tenant_a.client, created["key"]).get("/v1/agents").status_code == 200


def test_revoked_key_stops_working(tenant_a: Api) -> None:
    viewer = tenant_a.as_role("viewer")
    assert viewer.get("/v1/agents").status_code == 200
    key_id = next(
        k["id"]
        for k in tenant_a.ok(tenant_a.get(f"/v1/tenants/{tenant_a.tenant_id}/api-keys"))["items"]
        if k["role"] == "viewer"
    )
    revoked = tenant_a.ok(tenant_a.delete(f"/v1/tenants/{tenant_a.tenant_id}/api-keys/{key_id}"))
    assert revoked["revoked_at"] is not None
    refused = viewer.get("/v1/agents")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "this API key has been revoked"


def test_keys_of_another_tenant_are_invisible(tenant_a: Api, tenant_b: Api) -> None:
    b_keys = f"/v1/tenants/{tenant_b.tenant_id}/api-keys"
    assert tenant_a.get(b_keys).status_code == 404
    assert tenant_a.post(b_keys, json={"name": "x", "role": "admin"}).status_code == 404
    b_key_id = tenant_b.ok(tenant_b.get(b_keys))["items"][0]["id"]
    # Even naming B's key under A's own tenant path finds nothing.
    assert (
        tenant_a.delete(f"/v1/tenants/{tenant_a.tenant_id}/api-keys/{b_key_id}").status_code == 404
    )
    assert tenant_b.get("/v1/agents").status_code == 200


def test_only_admins_manage_keys(tenant_a: Api) -> None:
    developer = tenant_a.as_role("developer")
    response = developer.post(
        f"/v1/tenants/{tenant_a.tenant_id}/api-keys", json={"name": "x", "role": "admin"}
    )
    assert response.status_code == 403
    assert "admin role" in response.json()["error"]["message"]


def test_platform_admin_acts_in_a_tenant_by_header(admin: Api, tenant_a: Api) -> None:
    created = admin.ok(
        admin.post("/v1/agents", json={"name": "ops"}, headers={"X-Tenant-Id": "tenant-a"}), 201
    )
    assert [a["id"] for a in tenant_a.ok(tenant_a.get("/v1/agents"))["items"]] == [created["id"]]
    assert admin.ok(admin.get("/v1/agents"))["items"] == []  # its home tenant is `default`
    missing = admin.get("/v1/agents", headers={"X-Tenant-Id": "nope"})
    assert missing.status_code == 404


def test_tenant_users_cannot_switch_tenant(tenant_a: Api, tenant_b: Api) -> None:
    response = tenant_a.get("/v1/agents", headers={"X-Tenant-Id": str(tenant_b.tenant_id)})
    assert response.status_code == 403


def test_every_endpoint_but_health_needs_a_token(client: TestClient) -> None:
    for method, path in [
        ("GET", "/v1/tenants"),
        ("POST", "/v1/tenants"),
        ("GET", "/v1/agents"),
        ("GET", "/v1/agents/agt_x/versions"),
        ("GET", "/v1/tenants/ten_x/api-keys"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"
    bogus = client.get("/v1/agents", headers={"Authorization": "Bearer ark_0123456789abcdef_nope"})
    assert bogus.status_code == 401


def test_platform_admin_keys_are_invisible_to_tenant_admins(admin: Api) -> None:
    default = next(t for t in admin.ok(admin.get("/v1/tenants"))["items"] if t["name"] == "default")
    tenant_admin = Api(admin.client, admin.new_key(default["id"], name="ops")["key"])
    keys_url = f"/v1/tenants/{default['id']}/api-keys"
    platform_keys = [k for k in admin.ok(admin.get(keys_url))["items"] if k["platform_admin"]]
    assert platform_keys, "the bootstrap key is a platform admin key"
    seen = tenant_admin.ok(tenant_admin.get(keys_url))["items"]
    assert [k["name"] for k in seen] == ["ops"]
    refused = tenant_admin.delete(f"{keys_url}/{platform_keys[0]['id']}")
    assert refused.status_code == 404
    assert admin.get("/v1/agents").status_code == 200  # the platform admin is not locked out
    # A platform admin still manages them.
    other = admin.ok(admin.get(keys_url))["items"]
    assert {k["id"] for k in other} >= {platform_keys[0]["id"]}
