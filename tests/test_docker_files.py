"""The full-stack files, checked without a Docker engine: they parse, pin every image, set what
the product reads, route the gateway to the API, and hold the identity setup the API expects."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from backend.settings import Settings
from worker.settings import WorkerSettings

DOCKER = Path(__file__).resolve().parent.parent / "docker"
ROOT = DOCKER.parent
OURS = {"migrate", "api", "worker", "ui"}
# What the product must be told on the full stack, per deployable (the rest have defaults).
REQUIRED = {
    "migrate": {"DATABASE_URL"},
    "api": {
        *("DATABASE_URL", "TEMPORAL_ADDRESS", "REDIS_URL", "S3_ENDPOINT", "S3_ACCESS_KEY"),
        *("S3_SECRET_KEY", "S3_BUCKET", "OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_ROLES_CLAIM"),
    },
    "worker": {
        *("DATABASE_URL", "TEMPORAL_ADDRESS", "REDIS_URL", "S3_ENDPOINT", "S3_ACCESS_KEY"),
        *("S3_SECRET_KEY", "S3_BUCKET"),
    },
}
# Documented development defaults; nothing else that looks like a secret may appear.
DEV_SECRETS = {
    "agent_runtime_dev",
    "agent-runtime-dev-secret",
    "admin-dev",
    "dev-password",
    "agent-runtime-automation-dev-secret",
    "pk-lf-agent-runtime-dev",
    "sk-lf-agent-runtime-dev",
    "langfuse-dev-nextauth-secret",
    "langfuse-dev-salt",
    "clickhouse-dev",
    "0" * 64,
    "YWdlbnQtcnVudGltZS1kZXYtc2VjcmV0cy1rZXktMDA=",
}


def load(name: str) -> Any:
    return yaml.safe_load((DOCKER / name).read_text())


def env_file() -> dict[str, str]:
    pairs = {}
    for line in (DOCKER / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def interpolate(value: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, _, default = match.group(1).partition(":-")
        return env.get(name) or default

    return re.sub(r"\$\{([^}]+)\}", substitute, value)


def services() -> dict[str, Any]:
    """The base file with the LangFuse overlay merged in, as compose merges them."""
    merged: dict[str, Any] = load("docker-compose.yml")["services"]
    for name, overlay in load("docker-compose.langfuse.yml")["services"].items():
        base = merged.setdefault(name, {})
        for key, value in overlay.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **value}
            elif isinstance(value, list) and isinstance(base.get(key), list):
                base[key] = base[key] + value
            else:
                base[key] = value
    return merged


def aliases(settings: type[BaseSettings]) -> set[str]:
    names: set[str] = set()
    for field in settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.update(choices if choices else [alias] if isinstance(alias, str) else [])
    return names


def test_the_files_parse_and_every_image_is_pinned_and_recorded() -> None:
    versions = (ROOT / "VERSIONS.md").read_text()
    images = {s["image"] for s in services().values() if "image" in s}
    dockerfile = (DOCKER / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", dockerfile, re.MULTILINE))
    images |= set(re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)) - stages
    assert images
    for image in images:
        if image.startswith("agent-runtime:"):
            continue  # ours, built from docker/Dockerfile
        tag = image.partition(":")[2]
        assert tag not in {"", "latest"}, f"{image} is not pinned"
        row = next((line for line in versions.splitlines() if f"`{image}`" in line), None)
        assert row is not None, f"VERSIONS.md does not list {image}"
        assert "https://" in row, f"VERSIONS.md gives no docs link for {image}"


def test_our_services_get_every_setting_they_need_and_only_real_ones() -> None:
    known = aliases(Settings) | aliases(WorkerSettings)
    # The workbench's sign-in client (read by app/, not by the settings classes).
    known |= {"WORKBENCH_OIDC_CLIENT_ID", "WORKBENCH_OIDC_CLIENT_SECRET", "WORKBENCH_OIDC_SCOPES"}
    env = env_file()
    merged = services()
    for name in OURS:
        service = merged[name]
        assert service["image"] == "agent-runtime:${AGENT_RUNTIME_VERSION}"
        variables = service.get("environment", {})
        unknown = set(variables) - known
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"
        missing = REQUIRED.get(name, set()) - set(variables)
        assert not missing, f"{name} lacks {missing}"
        for key, value in variables.items():
            assert interpolate(str(value), env) != "" or key.endswith("API_KEY"), (name, key)
    assert merged["worker"]["environment"]["LANGFUSE_BASE_URL"] == "http://langfuse-web:3000"


def test_services_start_in_order() -> None:
    merged = services()
    for name, service in merged.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in merged, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in merged[dependency], f"{dependency} has no health check"
            elif condition == "service_completed_successfully":
                assert merged[dependency].get("restart") == "no", dependency
    assert merged["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_published_ports_are_the_documented_ones() -> None:
    merged = services()

    def published(name: str) -> set[int]:
        return {int(str(port).split(":")[0]) for port in merged[name].get("ports", [])}

    assert published("kong") == {8000, 8001}
    assert published("api") == {8002}
    assert published("keycloak") == {8080}
    assert published("temporal") == {7233}
    assert published("temporal-ui") == {8088}
    assert published("postgres") == {5432}
    assert published("redis") == {6379}
    assert published("minio") == {9000, 9001}
    assert published("ui") == {3000}


def test_kong_routes_to_the_api_port() -> None:
    kong = load("kong/kong.yml")
    (service,) = kong["services"]
    api = services()["api"]
    command = api["command"]
    assert service["url"] == f"http://api:{command[command.index('--port') + 1]}"
    assert f"{command[command.index('--port') + 1]}:" in api["ports"][0]
    plugins = {plugin["name"]: plugin["config"] for plugin in service["plugins"]}
    assert {"cors", "rate-limiting", "request-size-limiting"} <= set(plugins)
    assert "Last-Event-ID" in plugins["cors"]["headers"]
    assert service["routes"][0]["response_buffering"] is False  # event streams flow


def test_the_keycloak_realm_matches_the_apis_oidc_settings() -> None:
    realm = json.loads((DOCKER / "keycloak" / "realm-agent-runtime.json").read_text())
    api = services()["api"]["environment"]
    assert api["OIDC_ISSUER"].endswith(f"/realms/{realm['realm']}")
    roles = {role["name"] for role in realm["roles"]["realm"]}
    assert {"admin", "developer", "viewer", api["OIDC_PLATFORM_ADMIN_ROLE"]} <= roles
    assert api["OIDC_ROLES_CLAIM"] == "realm_access.roles"  # where Keycloak puts realm roles
    clients = {client["clientId"]: client for client in realm["clients"]}
    assert clients[api["OIDC_AUDIENCE"]]["bearerOnly"] is True
    workbench = clients[services()["ui"]["environment"]["WORKBENCH_OIDC_CLIENT_ID"]]
    assert workbench["publicClient"] is True
    assert workbench["attributes"]["pkce.code.challenge.method"] == "S256"
    automation = clients["agent-runtime-automation"]
    assert automation["serviceAccountsEnabled"] is True
    assert automation["publicClient"] is False
    for client in (workbench, automation):
        mappers = {m["protocolMapper"]: m["config"] for m in client["protocolMappers"]}
        assert mappers["oidc-audience-mapper"]["included.client.audience"] == api["OIDC_AUDIENCE"]
        tenant = mappers["oidc-usermodel-attribute-mapper"]
        assert tenant["claim.name"] == api.get("OIDC_TENANT_CLAIM", "tenant")
        assert tenant["access.token.claim"] == "true"
    users = {user["username"]: user for user in realm["users"]}
    robot = users["service-account-agent-runtime-automation"]
    assert (robot["attributes"]["tenant"], robot["realmRoles"]) == (["default"], ["admin"])


@pytest.mark.parametrize(
    "name",
    [
        "docker-compose.yml",
        "docker-compose.langfuse.yml",
        "kong/kong.yml",
        "keycloak/realm-agent-runtime.json",
        ".env.example",
        "Dockerfile",
    ],
)
def test_no_secret_but_the_documented_dev_defaults(name: str) -> None:
    text = (DOCKER / name).read_text()
    env = env_file()
    for key, value in env.items():
        looks_secret = bool({"PASSWORD", "SECRET", "KEY", "SALT"} & set(key.split("_")))
        if looks_secret and value and not key.endswith("_API_KEY"):
            assert value in DEV_SECRETS, f".env.example: {key} is not a documented dev default"
    for literal in re.findall(r"(?i)(?:password|secret)[\"']?\s*[:=]\s*[\"']?([^\s\"',}]+)", text):
        if literal.startswith("${") or literal.startswith("$$"):
            continue
        assert literal in DEV_SECRETS or literal.lower() in {"true", "false"}, (name, literal)
    assert "sk-" not in text.replace("sk-lf-agent-runtime-dev", "")


def test_the_dockerfile_builds_from_the_lock_as_a_non_root_user() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "--require-hashes requirements.lock" in dockerfile
    assert "agent-runtime ui --build-only" in dockerfile  # the frontend is built into the image
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.MULTILINE)
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 3
