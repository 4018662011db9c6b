"""LLM provider keys for the API and the web UI: the same validation, the same mask, one create and delete.

The secret is write-only: what either surface shows of it is `mask_api_key`'s start and end.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from assay.domain.providers import PROVIDERS
from assay.domain.secrets import SecretDecryptionError
from assay.errors import ValidationFailed
from assay.storage import provider_keys as store
from assay.storage.db import Session
from assay.storage.tables import ProviderKeyRow

MAX_NAME_LENGTH = 200
MAX_API_KEY_LENGTH = 10_000
MAX_BASE_URL_LENGTH = 500
NO_KEY_MESSAGE = "This field is required unless base_url names a server without authentication."
AZURE_NEEDS_BASE_URL = "An Azure OpenAI key needs the resource's base_url."


def normalize_base_url(value: str | None) -> str | None:
    """An http(s) URL with a host, without its trailing slash; `ValueError("Enter a valid URL.")` otherwise."""
    if value is None:
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Enter a valid URL.")
    return value.rstrip("/")


def mask_api_key(key: str) -> str:
    """The start and end of a key, never more than a third of it (`sk-…abcd`)."""
    if len(key) >= 16:
        return f"{key[:3]}…{key[-4:]}"
    if len(key) >= 8:
        return f"…{key[-2:]}"
    return "…"


def api_key_mask(row: ProviderKeyRow, secret_key: str) -> str | None:
    """The stored key's mask; None for a server without auth or a secret that cannot be decrypted."""
    try:
        api_key = store.read_api_key(row=row, secret_key=secret_key)
    except SecretDecryptionError:
        api_key = None
    return mask_api_key(api_key) if api_key else None


def check_new_key(*, provider: str, base_url: str | None, api_key: str | None, api_key_sent: bool) -> None:
    """The rules a new key's fields must follow together (`ValidationFailed` names the field)."""
    if provider == "azure_openai" and not base_url:
        raise ValidationFailed(AZURE_NEEDS_BASE_URL, attr="base_url", code="required")
    if api_key is None and not base_url:
        raise ValidationFailed(NO_KEY_MESSAGE, attr="api_key", code="null" if api_key_sent else "required")


def parse_key_form(*, provider: str, name: str, api_key: str, base_url: str) -> dict[str, Any]:
    """A new key's fields from form text, checked as the API checks its body (each field, then together)."""
    if provider not in PROVIDERS:
        raise ValidationFailed(f"provider: choose one of {', '.join(PROVIDERS)}", attr="provider")
    if not name.strip():
        raise ValidationFailed("name: This field may not be blank.", attr="name", code="blank")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(f"name: at most {MAX_NAME_LENGTH} characters", attr="name")
    url: str | None = None
    if base_url.strip():
        if len(base_url) > MAX_BASE_URL_LENGTH:
            raise ValidationFailed(f"base_url: at most {MAX_BASE_URL_LENGTH} characters", attr="base_url")
        try:
            url = normalize_base_url(base_url)
        except ValueError as exc:
            raise ValidationFailed(f"base_url: {exc}", attr="base_url") from None
    if len(api_key) > MAX_API_KEY_LENGTH:
        raise ValidationFailed(f"api_key: at most {MAX_API_KEY_LENGTH} characters", attr="api_key")
    secret = api_key.strip() or None
    check_new_key(provider=provider, base_url=url, api_key=secret, api_key_sent=False)
    return {"provider": provider, "name": name, "base_url": url, "api_key": secret}


async def create_provider_key(
    *,
    session: Session,
    environment_id: uuid.UUID,
    fields: dict[str, Any],
    api_key: str | None,
    secret_key: str,
    created_by_id: uuid.UUID | None,
    api_key_sent: bool = False,
) -> ProviderKeyRow:
    """Store a new key (`fields`: provider, name, base_url, requests_per_minute, tokens_per_minute) and commit."""
    check_new_key(
        provider=fields["provider"], base_url=fields.get("base_url"), api_key=api_key, api_key_sent=api_key_sent
    )
    row = await store.create_provider_key(
        session=session,
        environment_id=environment_id,
        fields=fields,
        api_key=api_key,
        secret_key=secret_key,
        created_by_id=created_by_id,
    )
    await session.commit()
    return row


async def delete_provider_key(*, session: Session, environment_id: uuid.UUID, key_id: uuid.UUID) -> None:
    """Delete one of the environment's keys (another environment's is not found) and commit."""
    row = await store.get_provider_key(session=session, environment_id=environment_id, key_id=key_id)
    await store.delete_provider_key(session=session, row=row)
    await session.commit()
