"""Settings every deployable (API, worker) reads, from environment variables only."""

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.contract import TASK_QUEUE

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
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        validation_alias="LOG_FORMAT",
        description="`json` (lines for log collectors) or `text` (lines for people); unset: "
        "text when the log stream is a terminal, JSON otherwise.",
    )
    # Continue-as-new after this many steps, so a long run's history stays short (the API
    # starts runs with it, and so does a worker starting a thread's next run).
    run_steps_per_execution: int = Field(
        default=200, ge=2, validation_alias="RUN_STEPS_PER_EXECUTION"
    )
    # Tools (and the MCP servers a version names) may reach loopback and private networks,
    # never cloud metadata endpoints: the worker calling them and the API pinning them.
    tool_allow_private_networks: bool = Field(
        default=False, validation_alias="TOOL_ALLOW_PRIVATE_NETWORKS"
    )
    # MCP servers over stdio start a local command: only where this allows it.
    mcp_allow_stdio: bool = Field(default=False, validation_alias="MCP_ALLOW_STDIO")
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


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
