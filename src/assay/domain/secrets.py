"""Secrets at rest (Fernet under a key derived from the server secret) and redaction for responses and logs."""

from __future__ import annotations

import base64
import re
from collections.abc import Collection
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from assay.errors import DomainError

MASK = "********"
_HKDF_SALT = b"assay/secrets/v1"
_HKDF_INFO = b"assay instance and provider secrets"
_SECRET_HEADER = re.compile(r"auth|passw|secret|token|credential|cookie|session|signature|key$|^api-?key", re.I)
PUBLIC_HEADERS = frozenset(
    {
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "content-encoding",
        "content-language",
        "content-type",
        "user-agent",
    }
)
"""Headers whose values are shown unless marked secret; every other header value is secret by default."""


class SecretDecryptionError(DomainError):
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
    """Whether a header's name says its value is secret (Authorization, X-Password, *token*, *-key …).

    Such a value is always secret: it cannot be marked public.
    """
    return bool(_SECRET_HEADER.search(name.strip()))


def header_is_secret(name: str, marked: bool | None) -> bool:
    """Whether a header value is kept secret: always when its name says so, else as marked (`secret`),
    and when unmarked unless the header is one of the common non-secret ones (`PUBLIC_HEADERS`)."""
    if is_secret_header(name):
        return True
    if marked is not None:
        return marked
    return name.strip().lower() not in PUBLIC_HEADERS


QueryPairs = list[tuple[str, str]]
"""A URL's query as `(name, raw value)` pairs in order (names decoded, values as written)."""


def _query_parts(query: str) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        raw_name, sep, raw_value = part.partition("=")
        parts.append((raw_name, raw_value if sep else None))
    return parts


def _join(parts: list[tuple[str, str | None]]) -> str:
    return "&".join(name if value is None else f"{name}={value}" for name, value in parts)


def split_query(url: str, public: Collection[str]) -> tuple[str, QueryPairs]:
    """The URL with every query value not named in `public` replaced by `MASK`, and the values replaced.

    Empty values are left as they are (nothing to hide); the rest of the URL is untouched.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url, []
    secret: QueryPairs = []
    masked: list[tuple[str, str | None]] = []
    for raw_name, raw_value in _query_parts(parts.query):
        name = unquote_plus(raw_name)
        if raw_value and name not in public:
            secret.append((name, raw_value))
            raw_value = MASK
        masked.append((raw_name, raw_value))
    return urlunsplit(parts._replace(query=_join(masked))), secret


def fill_query(url: str, stored: QueryPairs) -> tuple[str, list[str], list[str]]:
    """The URL with each `MASK` query value replaced by the stored value of the same name (in order),
    the names filled, and the names for which none is stored."""
    parts = urlsplit(url)
    if not parts.query or MASK not in unquote_plus(parts.query):
        return url, [], []
    available: dict[str, list[str]] = {}
    for name, value in stored:
        available.setdefault(name, []).append(value)
    missing: list[str] = []
    kept: list[str] = []
    filled: list[tuple[str, str | None]] = []
    for raw_name, raw_value in _query_parts(parts.query):
        name = unquote_plus(raw_name)
        if raw_value is not None and unquote_plus(raw_value) == MASK:
            values = available.get(name)
            if values:
                raw_value = values.pop(0)
                kept.append(name)
            else:
                missing.append(name)
        filled.append((raw_name, raw_value))
    return urlunsplit(parts._replace(query=_join(filled))), kept, missing


def _redact_headers(headers: Any) -> Any:
    if not isinstance(headers, dict):
        return headers
    out: dict[str, Any] = {}
    for name, value in headers.items():
        if isinstance(value, dict):
            marked = value.get("secret")
            secret = header_is_secret(str(name), marked if isinstance(marked, bool) else None)
            out[name] = {**value, "value": MASK} if secret and value.get("value") is not None else dict(value)
        elif value is not None and header_is_secret(str(name), None):
            out[name] = MASK
        else:
            out[name] = value
    return out


def redact(spec_dict: dict[str, Any]) -> dict[str, Any]:
    """A copy of an instance config dict with its secrets (api_key, secret header values, URL query values
    not in `public_query`) replaced by `MASK`."""
    out = dict(spec_dict)
    if out.get("api_key"):
        out["api_key"] = MASK
    if "headers" in out:
        out["headers"] = _redact_headers(out["headers"])
    public = out.get("public_query") or ()
    for field in ("url", "base_url"):
        if isinstance(out.get(field), str):
            out[field] = split_query(out[field], public)[0]
    return out
