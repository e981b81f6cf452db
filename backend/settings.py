"""Settings of the control plane, read from environment variables only."""

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.workflow_contract import TASK_QUEUE

DEFAULT_DATA_DIR = Path(".agent-runtime")


class CommonSettings(BaseSettings):
    """What every deployable (API, worker) reads; an unset value means the embedded default."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, validation_alias="AGENT_RUNTIME_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    temporal_address: str | None = Field(default=None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default=TASK_QUEUE, validation_alias="AGENT_RUNTIME_TASK_QUEUE")
    s3_endpoint: str | None = Field(default=None, validation_alias="S3_ENDPOINT")
    s3_access_key: str | None = Field(default=None, validation_alias="S3_ACCESS_KEY")
    s3_secret_key: SecretStr | None = Field(default=None, validation_alias="S3_SECRET_KEY")
    s3_bucket: str = Field(default="agent-runtime", validation_alias="S3_BUCKET")
    s3_region: str | None = Field(default=None, validation_alias="S3_REGION")
    s3_secure: bool = Field(default=True, validation_alias="S3_SECURE")
    # JSON lines for log collectors; "text" for people reading a terminal.
    log_format: Literal["json", "text"] = Field(default="json", validation_alias="LOG_FORMAT")
    langfuse_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("LANGFUSE_BASE_URL", "LANGFUSE_HOST")
    )
    langfuse_public_key: str | None = Field(default=None, validation_alias="LANGFUSE_PUBLIC_KEY")
    langfuse_secret_key: SecretStr | None = Field(
        default=None, validation_alias="LANGFUSE_SECRET_KEY"
    )

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or "127.0.0.1:7233"

    @cached_property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or an SQLite file under the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'agent-runtime.db').resolve()}"


class Settings(CommonSettings):
    """The API process: common settings plus how callers authenticate."""

    # Continue-as-new after this many steps, so a long run's history stays short.
    run_steps_per_execution: int = Field(
        default=200, ge=2, validation_alias="RUN_STEPS_PER_EXECUTION"
    )

    # How often each API process starts the workflows of runs left `queued` (the engine was
    # down, or an API died between committing a run and starting it); also the grace period.
    run_start_retry_seconds: float = Field(
        default=5.0, gt=0, le=3600, validation_alias="RUN_START_RETRY_SECONDS"
    )

    # The largest request body read; a larger one is answered 413 before it is read whole.
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, validation_alias="MAX_REQUEST_BYTES"
    )

    # An SSE comment this often keeps idle event streams open through proxies.
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, validation_alias="SSE_HEARTBEAT_SECONDS"
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


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
