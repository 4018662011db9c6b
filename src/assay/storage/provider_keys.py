"""LLM provider keys: the secret is stored only as a token encrypted with the server secret key."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.secrets import SecretDecryptionError, decrypt_secret, encrypt_secret
from assay.errors import ResourceNotFound
from assay.storage.paging import fetch_page
from assay.storage.tables import ProviderKeyRow


def encrypt_api_key(api_key: str | None, secret_key: str) -> str:
    """The `encrypted_config` value for a key: `{"api_key": ...}` encrypted (`null` for a server without auth)."""
    return encrypt_secret(json.dumps({"api_key": api_key}), secret_key)


def read_api_key(*, row: ProviderKeyRow, secret_key: str) -> str | None:
    """The key in clear (None for a server without auth); raises `SecretDecryptionError` when it cannot be
    decrypted."""
    try:
        config = json.loads(decrypt_secret(row.encrypted_config, secret_key))
    except ValueError:
        raise SecretDecryptionError("A stored provider key is corrupted.") from None
    if not isinstance(config, dict) or "api_key" not in config:
        raise SecretDecryptionError("A stored provider key is corrupted.")
    value = config["api_key"]
    return None if value is None else str(value)


async def list_provider_keys(
    *, session: AsyncSession, environment_id: uuid.UUID, limit: int, offset: int, provider: str | None = None
) -> tuple[int, list[ProviderKeyRow]]:
    """One page of the environment's keys, newest first, and the total count."""
    query = select(ProviderKeyRow).where(ProviderKeyRow.environment_id == environment_id)
    if provider:
        query = query.where(ProviderKeyRow.provider == provider)
    query = query.order_by(ProviderKeyRow.created_at.desc(), ProviderKeyRow.id.desc())
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_provider_key(*, session: AsyncSession, environment_id: uuid.UUID, key_id: uuid.UUID) -> ProviderKeyRow:
    row = await session.get(ProviderKeyRow, key_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Not found.")
    return row


async def find_provider_keys(
    *, session: AsyncSession, environment_id: uuid.UUID, ids: set[uuid.UUID]
) -> dict[uuid.UUID, ProviderKeyRow]:
    """The environment's keys among `ids`, by id."""
    if not ids:
        return {}
    query = select(ProviderKeyRow).where(ProviderKeyRow.environment_id == environment_id, ProviderKeyRow.id.in_(ids))
    return {row.id: row for row in await session.scalars(query)}


async def create_provider_key(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    fields: dict[str, Any],
    api_key: str | None,
    secret_key: str,
    created_by_id: uuid.UUID | None = None,
) -> ProviderKeyRow:
    """Store a new key; `api_key` None for a local server without auth (its `base_url` is in `fields`)."""
    row = ProviderKeyRow(
        environment_id=environment_id,
        created_by_id=created_by_id,
        encrypted_config=encrypt_api_key(api_key, secret_key),
        **fields,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def update_provider_key(
    *,
    session: AsyncSession,
    row: ProviderKeyRow,
    fields: dict[str, Any],
    api_key: str | None,
    secret_key: str,
    remove_api_key: bool = False,
) -> ProviderKeyRow:
    """Apply fields; a new `api_key` (or `remove_api_key`) replaces the secret and resets the state to `unknown`."""
    for name, value in fields.items():
        setattr(row, name, value)
    if api_key is not None or remove_api_key:
        row.encrypted_config = encrypt_api_key(api_key, secret_key)
        row.state = "unknown"
        row.error_message = None
    await session.flush()
    await session.refresh(row)
    return row


async def delete_provider_key(*, session: AsyncSession, row: ProviderKeyRow) -> None:
    """Delete the key; model configurations that used it keep going with `provider_key_id` null (FK SET NULL)."""
    await session.execute(
        delete(ProviderKeyRow).where(ProviderKeyRow.id == row.id, ProviderKeyRow.environment_id == row.environment_id)
    )
    await session.flush()


async def load_provider_key(
    *, session: AsyncSession, environment_id: uuid.UUID, key_id: uuid.UUID, secret_key: str
) -> tuple[ProviderKeyRow, str | None]:
    """The key's row and its secret in clear (None: no auth), for the run engine (never for a response)."""
    row = await get_provider_key(session=session, environment_id=environment_id, key_id=key_id)
    return row, read_api_key(row=row, secret_key=secret_key)
