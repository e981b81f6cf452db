"""Claim checks: a step's input or output over a size limit lives in the object store.

The database row then holds a small stub (`{"$ref": key, "size": n, "preview": ...}`) and the
key in `input_ref`/`output_ref`; Temporal history never sees payloads at all. Whoever reads the
step (the worker rebuilding a transcript, the API serving it) fetches the payload by its key.
"""

import json
from typing import Any

from core.models import RunStep
from core.objectstore import ObjectStore

DEFAULT_INLINE_LIMIT_BYTES = 64 * 1024
PREVIEW_CHARACTERS = 500
FIELDS = ("input", "output")


def step_payload_key(tenant_id: str, run_id: str, seq: int, field: str) -> str:
    return f"tenants/{tenant_id}/runs/{run_id}/steps/{seq}/{field}.json"


def oversized(step: RunStep, limit: int) -> dict[str, bytes]:
    """The fields over `limit` bytes as JSON, encoded (most steps: none)."""
    encoded = {
        field: _encode(value) for field in FIELDS if (value := getattr(step, field)) is not None
    }
    return {field: blob for field, blob in encoded.items() if len(blob) > limit}


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def offload(store: ObjectStore, tenant_id: str, step: RunStep, blobs: dict[str, bytes]) -> None:
    """Move the `oversized` fields to the store, leaving a stub in the row."""
    for field, encoded in blobs.items():
        key = step_payload_key(tenant_id, step.run_id, step.seq, field)
        store.put(key, encoded, "application/json")
        setattr(step, field, stub(key, encoded))
        setattr(step, f"{field}_ref", key)


def stub(key: str, encoded: bytes) -> dict[str, Any]:
    preview = encoded[: PREVIEW_CHARACTERS * 4].decode(errors="ignore")[:PREVIEW_CHARACTERS]
    return {"$ref": key, "size": len(encoded), "preview": preview}


def needs_resolving(steps: list[RunStep]) -> bool:
    return any(step.input_ref or step.output_ref for step in steps)


def resolve(store: ObjectStore, steps: list[RunStep]) -> None:
    """Put the stored payloads back in place. Only for rows no session will write again."""
    for step in steps:
        for field in FIELDS:
            key = getattr(step, f"{field}_ref")
            if key:
                setattr(step, field, json.loads(store.get(key)))
