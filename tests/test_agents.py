from tests.helpers import Api, error_fields


def test_create_read_rename_and_archive(tenant_a: Api) -> None:
    agent = tenant_a.new_agent("support-bot", description="answers tickets")
    assert agent["archived"] is False
    assert agent["latest_version"] is None
    assert agent["created_by"].startswith("key:")
    fetched = tenant_a.ok(tenant_a.get(f"/v1/agents/{agent['id']}"))
    assert fetched == agent

    renamed = tenant_a.ok(tenant_a.patch(f"/v1/agents/{agent['id']}", json={"name": "helpdesk"}))
    assert renamed["name"] == "helpdesk"
    assert renamed["description"] == "answers tickets"

    archived = tenant_a.ok(tenant_a.patch(f"/v1/agents/{agent['id']}", json={"archived": True}))
    assert archived["archived"] is True
    assert tenant_a.ok(tenant_a.get("/v1/agents"))["items"] == []
    listed = tenant_a.ok(tenant_a.get("/v1/agents", params={"archived": True}))["items"]
    assert [a["id"] for a in listed] == [agent["id"]]


def test_names_are_unique_within_a_tenant_only(tenant_a: Api, tenant_b: Api) -> None:
    first = tenant_a.new_agent("bot")
    clash = tenant_a.post("/v1/agents", json={"name": "bot"})
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "agent_name_taken"
    other = tenant_a.new_agent("other")
    rename = tenant_a.patch(f"/v1/agents/{other['id']}", json={"name": "bot"})
    assert rename.status_code == 409
    assert tenant_b.new_agent("bot")["id"] != first["id"]


def test_bad_bodies_name_the_field(tenant_a: Api) -> None:
    empty = tenant_a.post("/v1/agents", json={"name": ""})
    assert empty.status_code == 422
    assert error_fields(empty) == ["name"]
    assert "name" in empty.json()["error"]["message"]
    missing = tenant_a.post("/v1/agents", json={"description": "x"})
    assert error_fields(missing) == ["name"]
    agent = tenant_a.new_agent()
    wrong_type = tenant_a.patch(f"/v1/agents/{agent['id']}", json={"archived": "maybe"})
    assert wrong_type.status_code == 422
    assert error_fields(wrong_type) == ["archived"]
    not_json = tenant_a.post(
        "/v1/agents", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["error"]["code"] == "validation_error"


def test_pagination_walks_every_agent_once(tenant_a: Api) -> None:
    created = {tenant_a.new_agent(f"agent-{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = tenant_a.ok(tenant_a.get("/v1/agents", params=params))
        seen += [a["id"] for a in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == created
    assert seen == sorted(seen, reverse=True)  # newest first
    bad = tenant_a.get("/v1/agents", params={"cursor": "%%%"})
    assert bad.status_code == 422
    assert error_fields(bad) == ["cursor"]


def test_search_by_name(tenant_a: Api) -> None:
    tenant_a.new_agent("Billing Helper")
    tenant_a.new_agent("triage")
    found = tenant_a.ok(tenant_a.get("/v1/agents", params={"q": "billing"}))["items"]
    assert [a["name"] for a in found] == ["Billing Helper"]


def test_another_tenants_agent_is_a_404_everywhere(tenant_a: Api, tenant_b: Api) -> None:
    agent = tenant_a.new_agent("secret-agent")
    tenant_a.publish(agent["id"])
    base = f"/v1/agents/{agent['id']}"
    for response in [
        tenant_b.get(base),
        tenant_b.patch(base, json={"name": "stolen"}),
        tenant_b.delete(base),
        tenant_b.get(f"{base}/versions"),
        tenant_b.get(f"{base}/versions/1"),
        tenant_b.post(f"{base}/versions", json={"model": {"provider": "scripted"}}),
    ]:
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert tenant_b.ok(tenant_b.get("/v1/agents"))["items"] == []
    assert tenant_a.ok(tenant_a.get(base))["name"] == "secret-agent"
    assert tenant_a.ok(tenant_a.get(base))["latest_version"] == 1


def test_viewers_read_but_do_not_write(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    viewer = tenant_a.as_role("viewer")
    assert viewer.get(f"/v1/agents/{agent['id']}").status_code == 200
    assert viewer.post("/v1/agents", json={"name": "x"}).status_code == 403
    assert viewer.patch(f"/v1/agents/{agent['id']}", json={"name": "x"}).status_code == 403
    assert viewer.post(f"/v1/agents/{agent['id']}/versions", json={}).status_code == 403
    developer = tenant_a.as_role("developer")
    assert developer.post("/v1/agents", json={"name": "dev-made"}).status_code == 201


def test_delete_an_agent_without_runs(tenant_a: Api) -> None:
    agent = tenant_a.new_agent()
    tenant_a.publish(agent["id"])
    assert tenant_a.delete(f"/v1/agents/{agent['id']}").status_code == 204
    assert tenant_a.get(f"/v1/agents/{agent['id']}").status_code == 404
