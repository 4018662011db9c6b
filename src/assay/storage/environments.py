"""Environments and their API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assay.domain.api_keys import NewKey, generate_key, generate_project_token, hash_key
from assay.errors import ConflictError, ResourceNotFound
from assay.storage.tables import ApiKeyRow, EnvironmentRow
from assay.storage.types import utcnow

_TOUCH_EVERY = timedelta(minutes=1)


async def create_environment(*, session: AsyncSession, name: str) -> EnvironmentRow:
    if await session.scalar(select(EnvironmentRow.id).where(EnvironmentRow.name == name)):
        raise ConflictError(f"an environment named {name!r} already exists")
    number = await session.scalar(select(func.coalesce(func.max(EnvironmentRow.project_number), 0) + 1))
    row = EnvironmentRow(name=name, project_token=generate_project_token(), project_number=number)
    session.add(row)
    await session.flush()
    return row


async def list_environments(*, session: AsyncSession) -> list[EnvironmentRow]:
    return list(await session.scalars(select(EnvironmentRow).order_by(EnvironmentRow.created_at)))


async def find_environment(*, session: AsyncSession, id_or_name: str) -> EnvironmentRow:
    """An environment by id or by name."""
    row: EnvironmentRow | None = None
    try:
        row = await session.get(EnvironmentRow, uuid.UUID(id_or_name))
    except ValueError:
        pass
    if row is None:
        row = await session.scalar(select(EnvironmentRow).where(EnvironmentRow.name == id_or_name))
    if row is None:
        raise ResourceNotFound(f"no environment with id or name {id_or_name!r}")
    return row


async def rotate_project_token(*, session: AsyncSession, environment_id: uuid.UUID) -> EnvironmentRow:
    """Give an environment a fresh project token; the old one stops working when the caller commits."""
    row = await session.get(EnvironmentRow, environment_id)
    if row is None:
        raise ResourceNotFound(f"no environment with id {str(environment_id)!r}")
    row.project_token = generate_project_token()
    await session.flush()
    return row


async def create_api_key(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    scopes: list[str],
    name: str = "",
    owner_user_id: uuid.UUID | None = None,
) -> tuple[ApiKeyRow, NewKey]:
    new = generate_key()
    row = ApiKeyRow(
        environment_id=environment_id,
        name=name,
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=scopes,
        owner_user_id=owner_user_id,
    )
    session.add(row)
    await session.flush()
    return row, new


async def list_api_keys(*, session: AsyncSession, environment_id: uuid.UUID | None = None) -> list[ApiKeyRow]:
    query = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
    if environment_id is not None:
        query = query.where(ApiKeyRow.environment_id == environment_id)
    return list(await session.scalars(query))


async def get_api_key(*, session: AsyncSession, environment_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeyRow | None:
    """One key of the environment (None when unknown or another environment's)."""
    row = await session.get(ApiKeyRow, key_id)
    return row if row is not None and row.environment_id == environment_id else None


async def revoke_api_key(*, session: AsyncSession, id_or_prefix: str) -> ApiKeyRow:
    row: ApiKeyRow | None = None
    try:
        row = await session.get(ApiKeyRow, uuid.UUID(id_or_prefix))
    except ValueError:
        matches = list(await session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == id_or_prefix)))
        if len(matches) > 1:
            raise ConflictError(f"prefix {id_or_prefix!r} matches several keys; use the key id") from None
        row = matches[0] if matches else None
    if row is None:
        raise ResourceNotFound(f"no API key with id or prefix {id_or_prefix!r}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    await session.flush()
    return row


async def authenticate_key(*, session: AsyncSession, key: str) -> ApiKeyRow | None:
    """The active key row for a presented key, or None. Records use at most once a minute."""
    row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        await session.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now))
        await session.commit()
    return row


async def authenticate_key_with_project(*, session: AsyncSession, key: str) -> tuple[ApiKeyRow, int | None] | None:
    """`authenticate_key`, with the project number of the key's environment."""
    row = await authenticate_key(session=session, key=key)
    if row is None:
        return None
    number = await session.scalar(select(EnvironmentRow.project_number).where(EnvironmentRow.id == row.environment_id))
    return row, number


async def environment_by_token(*, session: AsyncSession, token: str) -> EnvironmentRow | None:
    return await session.scalar(select(EnvironmentRow).where(EnvironmentRow.project_token == token))


async def active_key_with_environment(
    *, session: AsyncSession, key_id: uuid.UUID
) -> tuple[ApiKeyRow, EnvironmentRow] | None:
    """An API key that is not revoked, with its environment; None when it is unknown or revoked."""
    found = (
        await session.execute(
            select(ApiKeyRow, EnvironmentRow)
            .join(EnvironmentRow, EnvironmentRow.id == ApiKeyRow.environment_id)
            .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
        )
    ).first()
    return (found[0], found[1]) if found is not None else None
