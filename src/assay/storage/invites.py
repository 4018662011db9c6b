"""Invites to an environment: stored by the SHA-256 of their token, used at most once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.user_tables import InviteRow


async def create_invite(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    email: str,
    role: str,
    token_hash: str,
    expires_at: datetime,
    created_by_user_id: uuid.UUID | None,
) -> InviteRow:
    row = InviteRow(
        environment_id=environment_id,
        email=email,
        role=role,
        token_hash=token_hash,
        expires_at=expires_at,
        created_by_user_id=created_by_user_id,
    )
    session.add(row)
    await session.flush()
    return row


async def invite_by_token_hash(*, session: AsyncSession, token_hash: str) -> InviteRow | None:
    return await session.scalar(select(InviteRow).where(InviteRow.token_hash == token_hash))


async def claim_invite(*, session: AsyncSession, invite_id: uuid.UUID, now: datetime) -> bool:
    """Mark the invite used, unless it already was or has expired (one conditional UPDATE: two tabs accepting
    the same invite cannot both win)."""
    result = await session.execute(
        update(InviteRow)
        .where(InviteRow.id == invite_id, InviteRow.used_at.is_(None), InviteRow.expires_at > now)
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def open_invites(*, session: AsyncSession, environment_id: uuid.UUID, now: datetime) -> list[InviteRow]:
    """The environment's invites not used and not expired, newest first."""
    rows = await session.scalars(
        select(InviteRow)
        .where(InviteRow.environment_id == environment_id, InviteRow.used_at.is_(None), InviteRow.expires_at > now)
        .order_by(InviteRow.created_at.desc())
    )
    return list(rows)


async def withdraw_invite(*, session: AsyncSession, environment_id: uuid.UUID, invite_id: uuid.UUID) -> bool:
    """Expire an open invite of the environment at once; False when there is none."""
    result = await session.execute(
        update(InviteRow)
        .where(InviteRow.id == invite_id, InviteRow.environment_id == environment_id, InviteRow.used_at.is_(None))
        .values(expires_at=InviteRow.created_at)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
