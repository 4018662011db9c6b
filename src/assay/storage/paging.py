"""Counting and slicing a query for limit/offset pagination."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def fetch_page(session: AsyncSession, query: Select[Any], *, limit: int, offset: int) -> tuple[int, list[Any]]:
    """The total count of `query` and one page of its rows."""
    count = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list((await session.scalars(query.limit(limit).offset(offset))).unique())
    return int(count or 0), rows
