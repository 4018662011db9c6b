"""Personal API keys: generation and hashing. Keys are shown once and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from typing import NamedTuple

KEY_PREFIX = "asy_"


class NewKey(NamedTuple):
    key: str
    prefix: str
    key_hash: str


def hash_key(key: str) -> str:
    """SHA-256 of the key. Keys carry 240 bits of randomness, so a fast hash is safe here."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> NewKey:
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    return NewKey(key=key, prefix=key[:10], key_hash=hash_key(key))


def generate_project_token() -> str:
    """The public, write-only token SDKs use to send events to an environment."""
    return "phc_" + secrets.token_urlsafe(24)
