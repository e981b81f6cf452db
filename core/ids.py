"""Identifiers that sort by creation time, so lists can page by id alone."""

import secrets
import time


def new_id(prefix: str) -> str:
    """`<prefix>_<12 hex digits of milliseconds><16 random hex digits>`."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"
