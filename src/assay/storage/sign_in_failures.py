"""Failed sign-in counters per subject (an account or a client address), shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.user_tables import SignInFailureRow


async def record_failure(*, session: AsyncSession, subject: str, now: datetime, forget_before: datetime) -> int:
    """Count one more failure of `subject` (starting again from one when the last was before `forget_before`),
    atomically; the count after it."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = SignInFailureRow.__table__
    statement = module.insert(SignInFailureRow).values(subject=subject, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["subject"],
        set_={
            "failures": case((table.c.last_failure_at < forget_before, 1), else_=table.c.failures + 1),
            "last_failure_at": now,
        },
    ).returning(table.c.failures)
    return int((await session.execute(statement)).scalar_one())


async def lock(*, session: AsyncSession, subject: str, until: datetime) -> None:
    await session.execute(
        update(SignInFailureRow).where(SignInFailureRow.subject == subject).values(locked_until=until)
    )


async def locked_until(*, session: AsyncSession, subjects: list[str], now: datetime) -> datetime | None:
    """The latest lock still running over these subjects, or None."""
    found: datetime | None = await session.scalar(
        select(SignInFailureRow.locked_until)
        .where(SignInFailureRow.subject.in_(subjects), SignInFailureRow.locked_until > now)
        .order_by(SignInFailureRow.locked_until.desc())
        .limit(1)
    )
    return found


async def clear(*, session: AsyncSession, subject: str) -> None:
    await session.execute(delete(SignInFailureRow).where(SignInFailureRow.subject == subject))
