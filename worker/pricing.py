"""Cost of a model call from a configurable price table (USD per million tokens)."""

import json
from dataclasses import dataclass

from core.models.agent_config import ModelSpec


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float


# Defaults for common models; MODEL_PRICES (JSON) on the worker adds to or overrides them.
DEFAULT_PRICES: dict[str, Price] = {
    "openai:gpt-4o": Price(2.5, 10.0),
    "openai:gpt-4o-mini": Price(0.15, 0.6),
    "openai:gpt-4.1": Price(2.0, 8.0),
    "openai:gpt-4.1-mini": Price(0.4, 1.6),
    "anthropic:claude-sonnet-4-5": Price(3.0, 15.0),
    "anthropic:claude-haiku-4-5": Price(1.0, 5.0),
    "scripted:*": Price(0.0, 0.0),
    "openai_compatible:*": Price(0.0, 0.0),
}


class PriceTable:
    def __init__(self, prices: dict[str, Price]) -> None:
        self.prices = prices

    @classmethod
    def from_json(cls, text: str | None) -> "PriceTable":
        """`{"openai:gpt-4o": {"input": 2.5, "output": 10}, "scripted:*": {...}}`."""
        prices = dict(DEFAULT_PRICES)
        for key, value in (json.loads(text) if text else {}).items():
            prices[key] = Price(float(value["input"]), float(value["output"]))
        return cls(prices)

    def price(self, spec: ModelSpec) -> Price:
        exact = self.prices.get(f"{spec.provider}:{spec.name}")
        return exact or self.prices.get(f"{spec.provider}:*") or Price(0.0, 0.0)

    def cost(self, spec: ModelSpec, input_tokens: int, output_tokens: int) -> float:
        price = self.price(spec)
        return (
            input_tokens * price.input_per_million + output_tokens * price.output_per_million
        ) / 1_000_000
