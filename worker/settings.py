"""Settings of a worker process, from environment variables only."""

from pydantic import Field, SecretStr

from backend.settings import CommonSettings


class WorkerSettings(CommonSettings):
    max_concurrent_activities: int = Field(
        default=100, validation_alias="WORKER_MAX_CONCURRENT_ACTIVITIES"
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
