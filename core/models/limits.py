"""What the API accepts, bounded by what every database it runs on can store.

Postgres `integer` columns hold 32 bits and its text holds no NUL; SQLite integers hold 64 bits.
The API answers the same on both, so it accepts what both can keep.
"""

from typing import Any

import pydantic_core
from pydantic import AfterValidator, BeforeValidator

# The largest value of an integer column (version numbers, step and event numbers).
DB_INT_MAX = 2**31 - 1
# Integers anywhere in a JSON body, free-form fields included.
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**63 - 1
# Containers nested in a JSON body; deeper ones are refused before anything reads them.
MAX_JSON_DEPTH = 64

# Free-form fields, as serialized JSON.
MAX_CONTEXT_BYTES = 64 * 1024
MAX_METADATA_BYTES = 16 * 1024
MAX_MODEL_PARAMETERS_BYTES = 256 * 1024
MAX_TOOL_PARAMETERS_BYTES = 64 * 1024
MAX_ARGUMENTS_BYTES = 64 * 1024


def json_size_at_most(limit: int, *, before: bool = False) -> AfterValidator | BeforeValidator:
    """A field whose value, serialized as JSON, is at most `limit` bytes; `before` checks the
    value as sent, before anything else reads it (a model's parameters)."""

    def check(value: Any) -> Any:
        size = len(pydantic_core.to_json(value, fallback=str))
        if size > limit:
            raise ValueError(f"at most {limit} bytes of JSON; this is {size}")
        return value

    return BeforeValidator(check) if before else AfterValidator(check)
