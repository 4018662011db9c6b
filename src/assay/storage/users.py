"""People: accounts, their roles per environment, the API keys they own."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ConflictError
from assay.storage.tables import ApiKeyRow, EnvironmentRow, UserRow
from assay.storage.types import utcnow
from assay.storage.user_tables import RoleRow

REVIEWING = ("reviewer", "admin")


async def create_user(*, session: AsyncSession, email: str, name: str, password_hash: str) -> UserRow:
    """A new account; `ConflictError` when the email is taken (emails are compared as stored: lower-case)."""
    if await session.scalar(select(UserRow.id).where(UserRow.email == email)):
        raise ConflictError(f"an account with the email {email!r} already exists")
    row = UserRow(email=email, name=name, password_hash=password_hash)
    session.add(row)
    await session.flush()
    return row


async def user_by_email(*, session: AsyncSession, email: str) -> UserRow | None:
    return await session.scalar(select(UserRow).where(UserRow.email == email))


async def get_user(*, session: AsyncSession, user_id: uuid.UUID) -> UserRow | None:
    return await session.get(UserRow, user_id)


async def set_password_hash(*, session: AsyncSession, user_id: uuid.UUID, password_hash: str) -> None:
    await session.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))


async def set_role(*, session: AsyncSession, user_id: uuid.UUID, environment_id: uuid.UUID, role: str) -> None:
    """Give the person `role` in the environment (replacing the role they had there)."""
    row = await session.get(RoleRow, (user_id, environment_id))
    if row is None:
        session.add(RoleRow(user_id=user_id, environment_id=environment_id, role=role))
    else:
        row.role = role
    await session.flush()


async def get_role(*, session: AsyncSession, user_id: uuid.UUID, environment_id: uuid.UUID) -> str | None:
    return await session.scalar(
        select(RoleRow.role).where(RoleRow.user_id == user_id, RoleRow.environment_id == environment_id)
    )


async def remove_role(*, session: AsyncSession, user_id: uuid.UUID, environment_id: uuid.UUID) -> bool:
    """Take the person out of the environment; False when they had no role there."""
    result = await session.execute(
        delete(RoleRow).where(RoleRow.user_id == user_id, RoleRow.environment_id == environment_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def user_with_role(
    *, session: AsyncSession, user_id: uuid.UUID, environment_id: uuid.UUID
) -> tuple[UserRow, str, EnvironmentRow] | None:
    """The person, their role in the environment and the environment; None without a role there."""
    found = (
        await session.execute(
            select(UserRow, RoleRow.role, EnvironmentRow)
            .join(RoleRow, RoleRow.user_id == UserRow.id)
            .join(EnvironmentRow, EnvironmentRow.id == RoleRow.environment_id)
            .where(UserRow.id == user_id, RoleRow.environment_id == environment_id)
        )
    ).one_or_none()
    if found is None:
        return None
    user, role, environment = found
    return user, role, environment


async def user_environments(*, session: AsyncSession, user_id: uuid.UUID) -> list[tuple[EnvironmentRow, str]]:
    """The environments the person has a role in, by name, with the role."""
    rows = await session.execute(
        select(EnvironmentRow, RoleRow.role)
        .join(RoleRow, RoleRow.environment_id == EnvironmentRow.id)
        .where(RoleRow.user_id == user_id)
        .order_by(EnvironmentRow.name)
    )
    return [(environment, role) for environment, role in rows.all()]


async def list_people(*, session: AsyncSession, environment_id: uuid.UUID) -> list[tuple[UserRow, str]]:
    """The environment's people with their roles, by name then email."""
    rows = await session.execute(
        select(UserRow, RoleRow.role)
        .join(RoleRow, RoleRow.user_id == UserRow.id)
        .where(RoleRow.environment_id == environment_id)
        .order_by(func.lower(UserRow.name), UserRow.email)
    )
    return [(user, role) for user, role in rows.all()]


async def count_admins(*, session: AsyncSession, environment_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(RoleRow.environment_id == environment_id, RoleRow.role == "admin")
    )
    return int(count or 0)


async def reviewer_ids(*, session: AsyncSession, environment_id: uuid.UUID) -> list[uuid.UUID]:
    """The environment's reviewers and admins (the people a review queue is split among), in id order."""
    rows = await session.scalars(
        select(RoleRow.user_id)
        .where(RoleRow.environment_id == environment_id, RoleRow.role.in_(REVIEWING))
        .order_by(RoleRow.user_id)
    )
    return list(rows)


async def revoke_owned_keys(*, session: AsyncSession, user_id: uuid.UUID, environment_id: uuid.UUID) -> int:
    """Revoke the person's active API keys of the environment; how many were revoked."""
    result = await session.execute(
        update(ApiKeyRow)
        .where(
            ApiKeyRow.owner_user_id == user_id,
            ApiKeyRow.environment_id == environment_id,
            ApiKeyRow.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def user_names(*, session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Display names (name, else email) of these people."""
    if not user_ids:
        return {}
    rows = await session.execute(select(UserRow.id, UserRow.name, UserRow.email).where(UserRow.id.in_(user_ids)))
    return {user_id: name or email for user_id, name, email in rows.all()}
