"""Settings of a worker process, from environment variables only."""

from pydantic import Field, SecretStr

from core.settings import CommonSettings


class WorkerSettings(CommonSettings):
    # Recorded on every step (e.g. a release tag or image digest); unset: the package version
    # and a digest of the worker's code.
    worker_build_id: str | None = Field(
        default=None, max_length=80, validation_alias="WORKER_BUILD_ID"
    )
    max_concurrent_activities: int = Field(
        default=100, validation_alias="WORKER_MAX_CONCURRENT_ACTIVITIES"
    )
    # On SIGTERM the worker stops taking work and gives the steps under way this long to finish
    # (inside Kubernetes' default 30 s termination grace period); what is left then runs again
    # on another worker.
    worker_shutdown_grace_seconds: float = Field(
        default=25.0, ge=0, validation_alias="WORKER_SHUTDOWN_GRACE_SECONDS"
    )
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_compatible_api_key: SecretStr | None = Field(
        default=None, validation_alias="OPENAI_COMPATIBLE_API_KEY"
    )
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(default=None, validation_alias="ANTHROPIC_BASE_URL")
    model_timeout_seconds: float = Field(default=120.0, validation_alias="MODEL_TIMEOUT_SECONDS")
    # JSON: {"openai:gpt-4o": {"input": 2.5, "output": 10}, ...} in USD per million tokens.
    model_prices: str | None = Field(default=None, validation_alias="MODEL_PRICES")
    # The largest answer an HTTP tool reads; larger ones fail the call.
    tool_max_response_bytes: int = Field(
        default=16 * 1024 * 1024, gt=0, validation_alias="TOOL_MAX_RESPONSE_BYTES"
    )
    # Step inputs and outputs larger than this (as JSON) go to the object store by reference.
    payload_inline_limit_bytes: int = Field(
        default=64 * 1024, ge=1024, validation_alias="PAYLOAD_INLINE_LIMIT_BYTES"
    )
    # How often the LangFuse exporter looks for trace observations waiting in the outbox.
    langfuse_export_interval_seconds: float = Field(
        default=1.0, gt=0, validation_alias="LANGFUSE_EXPORT_INTERVAL_SECONDS"
    )
    # Prometheus metrics of this worker at http://HOST:PORT/metrics; off when unset.
    worker_metrics_port: int | None = Field(default=None, validation_alias="WORKER_METRICS_PORT")
    worker_metrics_host: str = Field(default="127.0.0.1", validation_alias="WORKER_METRICS_HOST")
