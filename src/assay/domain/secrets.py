"""Secrets at rest (Fernet under a key derived from the server secret) and redaction for responses and logs."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from assay.errors import AssayError

MASK = "********"
_HKDF_SALT = b"assay/secrets/v1"
_HKDF_INFO = b"assay instance and provider secrets"
_SECRET_HEADER = re.compile(r"^(authorization|proxy-authorization|x-api-key|api-key|cookie)$|token|secret|key$", re.I)


class SecretDecryptionError(AssayError):
    """A stored secret could not be decrypted: wrong server secret key, or a corrupted token."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ValueError("The server secret key must not be empty.")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt_secret(plaintext: str, secret_key: str) -> str:
    """Encrypt `plaintext` under a key derived (HKDF-SHA256) from the server's `secret_key`; returns a token."""
    return _fernet(secret_key).encrypt(plaintext.encode()).decode("ascii")


def decrypt_secret(token: str, secret_key: str) -> str:
    """Decrypt a token from `encrypt_secret`; raise `SecretDecryptionError` on a wrong key or bad token."""
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise SecretDecryptionError(
            "A stored secret could not be decrypted (was the server secret key changed?)."
        ) from None


def is_secret_header(name: str) -> bool:
    """Whether a header's value is secret by its name (Authorization, X-Api-Key, *token*, *secret*, *-key …)."""
    return bool(_SECRET_HEADER.search(name.strip()))


def _redact_headers(headers: Any) -> Any:
    if not isinstance(headers, dict):
        return headers
    out: dict[str, Any] = {}
    for name, value in headers.items():
        if isinstance(value, dict):
            secret = bool(value.get("secret")) or is_secret_header(str(name))
            out[name] = {**value, "value": MASK} if secret and value.get("value") is not None else dict(value)
        elif value is not None and is_secret_header(str(name)):
            out[name] = MASK
        else:
            out[name] = value
    return out


def redact(spec_dict: dict[str, Any]) -> dict[str, Any]:
    """A copy of an instance config dict with its secrets (api_key, secret header values) replaced by `MASK`."""
    out = dict(spec_dict)
    if out.get("api_key"):
        out["api_key"] = MASK
    if "headers" in out:
        out["headers"] = _redact_headers(out["headers"])
    return out
