"""API key material: generation, parsing and hashing. Only hashes are ever stored."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ark_"


@dataclass(frozen=True)
class GeneratedKey:
    lookup: str
    secret_hash: str
    key: str


def hash_secret(secret: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough; a password hash would only slow
    # every request down.
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_key() -> GeneratedKey:
    lookup = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return GeneratedKey(lookup, hash_secret(secret), f"{KEY_PREFIX}{lookup}_{secret}")


def parse_key(key: str) -> tuple[str, str] | None:
    """`ark_<lookup>_<secret>` -> (lookup, secret), or None if it is not shaped like a key."""
    if not key.startswith(KEY_PREFIX):
        return None
    lookup, sep, secret = key[len(KEY_PREFIX) :].partition("_")
    if not sep or len(lookup) != 16 or not secret:
        return None
    return lookup, secret


def key_material(key: str) -> GeneratedKey | None:
    """The stored form of a key someone holds, or None if it is not shaped like a key."""
    parsed = parse_key(key)
    if parsed is None:
        return None
    lookup, secret = parsed
    return GeneratedKey(lookup, hash_secret(secret), key)


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def display_prefix(lookup: str) -> str:
    return f"{KEY_PREFIX}{lookup}"
