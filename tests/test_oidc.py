"""OIDC access tokens, validated against a real local provider's discovery document and JWKS."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey

from backend.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api
from tests.oidc_provider import AUDIENCE, OidcProvider, running_oidc_provider


@pytest.fixture(scope="session")
def oidc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with running_oidc_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def settings(database_url: str, tmp_path: Path, oidc: OidcProvider) -> Settings:
    return make_settings(database_url, tmp_path, OIDC_ISSUER=oidc.issuer, OIDC_AUDIENCE=AUDIENCE)


@pytest.fixture(autouse=True)
def acme(admin: Api) -> None:
    """API keys keep working beside OIDC: the platform admin makes the tokens' tenant."""
    admin.new_tenant("acme")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_provider_token_acts_in_its_tenant_with_its_role(
    client: TestClient, oidc: OidcProvider
) -> None:
    alice = Api(client, oidc.password_token("alice"))
    agent = alice.new_agent("from-oidc")
    assert agent["created_by"] == "oidc:alice"
    tenants = alice.ok(alice.get("/v1/tenants"))["items"]
    assert [t["name"] for t in tenants] == ["acme"]
    assert (
        alice.post(f"/v1/tenants/{tenants[0]['id']}/api-keys", json={"name": "k"}).status_code
        == 403
    )

    victor = Api(client, oidc.password_token("victor"))
    assert [a["id"] for a in victor.ok(victor.get("/v1/agents"))["items"]] == [agent["id"]]
    assert victor.post("/v1/agents", json={"name": "nope"}).status_code == 403


def test_what_a_token_creates_records_its_name_beside_its_subject(
    client: TestClient, oidc: OidcProvider
) -> None:
    """An OIDC subject is an opaque id: the token's name is recorded for people to read."""
    subject = "3f2b8c1e-5d7a-4e9b-a6c0-1d2e3f4a5b6c"
    alice = Api(client, oidc.mint(sub=subject, name="Alice Liddell"))
    agent = alice.new_agent("named")
    version = alice.publish(agent["id"])
    for record in (agent, version, alice.ok(alice.get(f"/v1/agents/{agent['id']}"))):
        assert record["created_by"] == f"oidc:{subject}"
        assert record["created_by_name"] == "Alice Liddell"
    # The name as it was then: a later token with another name changes no record.
    renamed = Api(client, oidc.mint(sub=subject, name="Alice Hargreaves"))
    assert renamed.ok(renamed.get(f"/v1/agents/{agent['id']}"))["created_by_name"] == (
        "Alice Liddell"
    )


def test_platform_admin_role_from_the_token(client: TestClient, oidc: OidcProvider) -> None:
    olga = Api(client, oidc.password_token("olga"))
    assert olga.new_tenant("from-olga")["name"] == "from-olga"


def test_unknown_tenant_or_no_role_is_forbidden(client: TestClient, oidc: OidcProvider) -> None:
    unknown = client.get("/v1/agents", headers=bearer(oidc.password_token("mallory")))
    assert unknown.status_code == 403
    assert "unknown-co" in unknown.json()["error"]["message"]
    no_role = client.get("/v1/agents", headers=bearer(oidc.password_token("nora")))
    assert no_role.status_code == 403
    no_tenant = client.get("/v1/agents", headers=bearer(oidc.mint(tenant=None)))
    assert no_tenant.status_code == 403


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


def _unsigned(claims: dict[str, object]) -> str:
    header = {"alg": "none", "typ": "JWT"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _hs256(header: dict[str, object], claims: dict[str, object], secret: bytes) -> str:
    """The algorithm-confusion attack: HMAC keyed with the provider's public key."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tampered_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _tampered_payload(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{head}.{forged}.{signature}"


def test_invalid_tokens_are_401(client: TestClient, oidc: OidcProvider) -> None:
    now = int(time.time())
    stranger_key = RSAKey.generate_key(2048)
    public_pem = oidc.signing_key.as_pem(private=False)
    cases = {
        "valid control": oidc.mint(),
        "expired": oidc.mint(iat=now - 3600, exp=now - 600),
        "wrong issuer": oidc.mint(iss="http://127.0.0.1:1/evil"),
        "wrong audience": oidc.mint(aud="someone-else"),
        "no expiry": oidc.mint(exp=None),
        "bad signature": _tampered_signature(oidc.password_token("alice")),
        "forged payload": _tampered_payload(oidc.password_token("victor")),
        "unknown key id": oidc.mint(key=stranger_key, kid="not-a-provider-key"),
        "right kid, wrong key": oidc.mint(key=stranger_key),
        "alg none": _unsigned({"iss": oidc.issuer, "aud": AUDIENCE, "sub": "x", "exp": now + 60}),
        "HS256 with the public key": _hs256(
            {"alg": "HS256", "kid": oidc.kid},
            {"iss": oidc.issuer, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "tenant": "acme"},
            public_pem,
        ),
        "garbage": "not-a-jwt",
    }
    for case, token in cases.items():
        status = client.get("/v1/agents", headers=bearer(token)).status_code
        expected = 200 if case == "valid control" else 401
        assert status == expected, case
    missing = client.get("/v1/agents")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "roles",
    [{"admin": False}, {"developer": True}, ["developer", 1], [["admin"]], 7, True],
)
def test_a_roles_claim_other_than_strings_grants_nothing(
    client: TestClient, oidc: OidcProvider, roles: object
) -> None:
    response = client.get("/v1/agents", headers=bearer(oidc.mint(roles=roles)))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "'roles' claim" in error["message"]


@pytest.mark.parametrize(("roles", "status"), [("developer", 200), (["viewer"], 200), (None, 403)])
def test_a_roles_claim_is_a_list_of_strings_or_one_string(
    client: TestClient, oidc: OidcProvider, roles: object, status: int
) -> None:
    response = client.get("/v1/agents", headers=bearer(oidc.mint(roles=roles)))
    assert response.status_code == status, response.text
