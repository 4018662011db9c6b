"""Agent instances: the public config in clear, the secrets encrypted with the server secret key."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.secrets import decrypt_secret, encrypt_secret
from assay.errors import ResourceNotFound
from assay.storage.run_tables import InstanceRow
from assay.storage.tables import SuiteRow


def _encrypt(secrets: dict[str, Any], secret_key: str) -> str | None:
    return encrypt_secret(json.dumps(secrets), secret_key) if secrets else None


async def list_instances(*, session: AsyncSession, environment_id: uuid.UUID) -> list[InstanceRow]:
    """The environment's instances, newest first."""
    query = select(InstanceRow).where(InstanceRow.environment_id == environment_id)
    return list(await session.scalars(query.order_by(InstanceRow.created_at.desc(), InstanceRow.id.desc())))


async def get_instance(*, session: AsyncSession, environment_id: uuid.UUID, instance_id: uuid.UUID) -> InstanceRow:
    row = await session.get(InstanceRow, instance_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Instance not found")
    return row


async def instance_exists(*, session: AsyncSession, environment_id: uuid.UUID, instance_id: uuid.UUID) -> bool:
    query = select(InstanceRow.id).where(InstanceRow.id == instance_id, InstanceRow.environment_id == environment_id)
    return (await session.scalar(query)) is not None


def read_secrets(*, row: InstanceRow, secret_key: str) -> dict[str, Any]:
    """The decrypted secrets of an instance (`{}` when it has none)."""
    if not row.encrypted_secrets:
        return {}
    secrets: dict[str, Any] = json.loads(decrypt_secret(row.encrypted_secrets, secret_key))
    return secrets


async def create_instance(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    name: str,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    secret_key: str,
) -> InstanceRow:
    row = InstanceRow(
        environment_id=environment_id,
        name=name,
        kind=kind,
        config=config,
        encrypted_secrets=_encrypt(secrets, secret_key),
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def update_instance(
    *,
    session: AsyncSession,
    row: InstanceRow,
    name: str | None = None,
    kind: str | None = None,
    config: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    secret_key: str,
) -> InstanceRow:
    """Apply the given fields; `config` and `secrets` go together (the secrets replace the stored ones)."""
    if name is not None:
        row.name = name
    if kind is not None:
        row.kind = kind
    if config is not None:
        row.config = config
        row.encrypted_secrets = _encrypt(secrets or {}, secret_key)
    await session.flush()
    await session.refresh(row)
    return row


async def delete_instance(*, session: AsyncSession, row: InstanceRow) -> None:
    """Delete the instance; evaluations that used it are left without one (`instance_id` null)."""
    await session.execute(
        update(SuiteRow)
        .where(SuiteRow.environment_id == row.environment_id, SuiteRow.instance_id == row.id)
        .values(instance_id=None)
    )
    await session.delete(row)
    await session.flush()
