"""Evaluators (LLM-analytics "evaluations") and their model configurations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ResourceNotFound
from assay.storage.paging import fetch_page
from assay.storage.tables import EvaluatorRow, ModelConfigurationRow, ProviderKeyRow

EVALUATOR_ORDERINGS = {"created_at", "-created_at", "updated_at", "-updated_at", "name", "-name"}


async def list_evaluators(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    limit: int,
    offset: int,
    search: str | None = None,
    enabled: bool | None = None,
    ids: list[uuid.UUID] | None = None,
    order_by: list[str] | None = None,
) -> tuple[int, list[EvaluatorRow]]:
    query = select(EvaluatorRow).where(EvaluatorRow.environment_id == environment_id, EvaluatorRow.deleted.is_(False))
    if search:
        query = query.where(
            or_(
                EvaluatorRow.name.icontains(search, autoescape=True),
                EvaluatorRow.description.icontains(search, autoescape=True),
            )
        )
    if enabled is not None:
        query = query.where(EvaluatorRow.enabled.is_(enabled))
    if ids is not None:
        query = query.where(EvaluatorRow.id.in_(ids))
    orders = []
    for field in order_by or []:
        column = getattr(EvaluatorRow, field.lstrip("-"))
        orders.append(column.desc() if field.startswith("-") else column.asc())
    query = query.order_by(*orders, EvaluatorRow.created_at.desc(), EvaluatorRow.id)
    return await fetch_page(session, query, limit=limit, offset=offset)


async def get_evaluator(
    *, session: AsyncSession, environment_id: uuid.UUID, evaluator_id: uuid.UUID, include_deleted: bool = False
) -> EvaluatorRow:
    row = await session.get(EvaluatorRow, evaluator_id)
    if row is None or row.environment_id != environment_id or (row.deleted and not include_deleted):
        raise ResourceNotFound("Not found.")
    return row


async def get_provider_key(
    *, session: AsyncSession, environment_id: uuid.UUID, key_id: uuid.UUID
) -> ProviderKeyRow | None:
    row = await session.get(ProviderKeyRow, key_id)
    if row is None or row.environment_id != environment_id:
        return None
    return row


async def create_model_configuration(
    *, session: AsyncSession, environment_id: uuid.UUID, provider: str, model: str, provider_key_id: uuid.UUID | None
) -> ModelConfigurationRow:
    row = ModelConfigurationRow(
        environment_id=environment_id, provider=provider, model=model, provider_key_id=provider_key_id
    )
    session.add(row)
    await session.flush()
    return row


async def delete_model_configuration(*, session: AsyncSession, config_id: uuid.UUID) -> None:
    row = await session.get(ModelConfigurationRow, config_id)
    if row is not None:
        await session.delete(row)
        await session.flush()


async def save_evaluator(*, session: AsyncSession, row: EvaluatorRow, fields: dict[str, Any]) -> EvaluatorRow:
    """Apply fields to a new or existing row, flush, and reload it with its relations."""
    for name, value in fields.items():
        setattr(row, name, value)
    if row not in session:
        session.add(row)
    await session.flush()
    await session.refresh(row)
    return row
