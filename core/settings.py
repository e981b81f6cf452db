"""Settings every deployable (API, worker) reads, from environment variables only."""

import base64
import binascii
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.contract import TASK_QUEUE

DEFAULT_DATA_DIR = Path(".agent-runtime")
FERNET_KEY_BYTES = 32
# Standard Webhooks' suggested schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_WEBHOOK_RETRIES = 50


class CommonSettings(BaseSettings):
    """What every deployable (API, worker) reads; an unset value means the embedded default."""

    # Errors name the variable, never repeat its value: many values are secrets (keys, URLs
    # with passwords).
    model_config = SettingsConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

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

    # Encrypts secrets kept in the database (webhook signing secrets): a Fernet key, the same
    # for the API and every worker. Unset: `<data dir>/secrets.key`, made on first use.
    secrets_key: SecretStr | None = Field(default=None, validation_alias="SECRETS_KEY")
    # The webhook sender (in each worker): seconds between a failed attempt and the next, one
    # entry per retry; after the last, the delivery is `failed`. The default spans about 27 h.
    webhook_retry_schedule: str = Field(
        default=",".join(str(s) for s in DEFAULT_WEBHOOK_RETRY_SCHEDULE),
        validation_alias="WEBHOOK_RETRY_SCHEDULE",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, validation_alias="WEBHOOK_TIMEOUT_SECONDS"
    )
    # How often the sender looks for deliveries due.
    webhook_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, validation_alias="WEBHOOK_POLL_SECONDS"
    )

    @field_validator("secrets_key")
    @classmethod
    def _a_fernet_key(cls, key: SecretStr | None) -> SecretStr | None:
        if key is None or not key.get_secret_value():
            return None
        try:
            decoded = base64.urlsafe_b64decode(key.get_secret_value().encode())
        except (ValueError, binascii.Error):
            decoded = b""
        if len(decoded) != FERNET_KEY_BYTES:
            # The value itself is never repeated: it is a secret.
            raise ValueError("SECRETS_KEY must be 32 bytes in URL-safe base64 (a Fernet key)")
        return key

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _seconds_list(cls, schedule: str) -> str:
        retry_delays(schedule)
        return schedule

    @property
    def webhook_retry_delays(self) -> tuple[float, ...]:
        return retry_delays(self.webhook_retry_schedule)

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or "127.0.0.1:7233"

    @cached_property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or an SQLite file under the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'agent-runtime.db').resolve()}"


def retry_delays(schedule: str) -> tuple[float, ...]:
    """`"5, 300, 1800"` -> (5.0, 300.0, 1800.0); empty: no retries."""
    try:
        delays = tuple(float(part) for part in schedule.split(",") if part.strip())
    except ValueError:
        raise ValueError("comma-separated seconds, e.g. 5,300,1800") from None
    if any(not 0 <= delay <= 7 * 86_400 for delay in delays) or len(delays) > MAX_WEBHOOK_RETRIES:
        raise ValueError(f"up to {MAX_WEBHOOK_RETRIES} delays, each 0 to 604800 seconds")
    return delays


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
