"""Settings of the control plane (the API process), read from environment variables only."""

from pathlib import Path

from pydantic import Field

from core.settings import CommonSettings


class Settings(CommonSettings):
    """The API process: common settings plus how callers authenticate."""

    # How often each API process starts the workflows of runs left `queued` (the engine was
    # down, or an API died between committing a run and starting it); also the grace period.
    run_start_retry_seconds: float = Field(
        default=5.0, gt=0, le=3600, validation_alias="RUN_START_RETRY_SECONDS"
    )

    # How often each API process deletes threads idle past their `ttl_seconds`.
    thread_sweep_seconds: float = Field(
        default=60.0, gt=0, le=86_400, validation_alias="THREAD_SWEEP_SECONDS"
    )

    # The largest request body read; a larger one is answered 413 before it is read whole.
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, validation_alias="MAX_REQUEST_BYTES"
    )

    # An SSE comment this often keeps idle event streams open through proxies.
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, validation_alias="SSE_HEARTBEAT_SECONDS"
    )

    # Where the LangGraph-compatible API is mounted (LangGraph SDK clients take it as their URL).
    langgraph_api_prefix: str = Field(
        default="/langgraph",
        pattern=r"^(/[A-Za-z0-9._~-]+)+$",
        validation_alias="LANGGRAPH_API_PREFIX",
    )

    oidc_issuer: str | None = Field(default=None, validation_alias="OIDC_ISSUER")
    oidc_audience: str | None = Field(default=None, validation_alias="OIDC_AUDIENCE")
    # Claim paths may be dotted, e.g. Keycloak's "realm_access.roles".
    oidc_tenant_claim: str = Field(default="tenant", validation_alias="OIDC_TENANT_CLAIM")
    oidc_roles_claim: str = Field(default="roles", validation_alias="OIDC_ROLES_CLAIM")
    oidc_platform_admin_role: str = Field(
        default="platform_admin", validation_alias="OIDC_PLATFORM_ADMIN_ROLE"
    )
    oidc_algorithms: list[str] = Field(
        default=["RS256", "ES256", "PS256"], validation_alias="OIDC_ALGORITHMS"
    )
    oidc_leeway_seconds: int = Field(default=30, validation_alias="OIDC_LEEWAY_SECONDS")
    oidc_jwks_refresh_seconds: int = Field(default=60, validation_alias="OIDC_JWKS_REFRESH_SECONDS")

    @property
    def admin_key_file(self) -> Path:
        return self.data_dir / "admin.key"
