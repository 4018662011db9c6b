"""Recipes: weighted evaluator items (stored evaluator ids or inline configs) and a pass threshold."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ConflictError, ResourceNotFound
from assay.storage.run_tables import RecipeRow
from assay.storage.tables import EvaluatorRow, SuiteRow


async def list_recipes(*, session: AsyncSession, environment_id: uuid.UUID) -> list[RecipeRow]:
    """The environment's recipes, newest first."""
    query = select(RecipeRow).where(RecipeRow.environment_id == environment_id)
    return list(await session.scalars(query.order_by(RecipeRow.created_at.desc(), RecipeRow.id.desc())))


async def get_recipe(*, session: AsyncSession, environment_id: uuid.UUID, recipe_id: uuid.UUID) -> RecipeRow:
    row = await session.get(RecipeRow, recipe_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Recipe not found")
    return row


async def recipe_exists(*, session: AsyncSession, environment_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
    query = select(RecipeRow.id).where(RecipeRow.id == recipe_id, RecipeRow.environment_id == environment_id)
    return (await session.scalar(query)) is not None


async def existing_evaluator_ids(
    *, session: AsyncSession, environment_id: uuid.UUID, ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `ids` are evaluators of the environment that are not deleted."""
    if not ids:
        return set()
    query = select(EvaluatorRow.id).where(
        EvaluatorRow.environment_id == environment_id, EvaluatorRow.id.in_(ids), EvaluatorRow.deleted.is_(False)
    )
    return set(await session.scalars(query))


async def create_recipe(*, session: AsyncSession, environment_id: uuid.UUID, fields: dict[str, Any]) -> RecipeRow:
    row = RecipeRow(environment_id=environment_id, **fields)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def update_recipe(*, session: AsyncSession, row: RecipeRow, fields: dict[str, Any]) -> RecipeRow:
    for name, value in fields.items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    return row


async def delete_recipe(*, session: AsyncSession, row: RecipeRow) -> None:
    """Delete the recipe; evaluations that used it fall back to the default recipe (`recipe_id` null)."""
    await session.execute(
        update(SuiteRow)
        .where(SuiteRow.environment_id == row.environment_id, SuiteRow.recipe_id == row.id)
        .values(recipe_id=None)
    )
    await session.delete(row)
    await session.flush()


def _definition(row: EvaluatorRow) -> dict[str, Any]:
    """A stored evaluator in the inline-config shape, with its full definition alongside."""
    config = row.evaluation_config or {}
    output = row.output_config or {}
    model = row.model_configuration
    resolved: dict[str, Any] = {
        "type": row.evaluation_type,
        "name": row.name,
        "evaluator_id": str(row.id),
        "output_type": row.output_type,
        "allows_na": bool(output.get("allows_na", False)),
        "evaluation_config": config,
        "output_config": output,
    }
    if row.evaluation_type == "llm_judge":
        resolved["prompt"] = config.get("prompt")
        resolved["model"] = (
            None
            if model is None
            else {
                "provider": model.provider,
                "model": model.model,
                "provider_key_id": str(model.provider_key_id) if model.provider_key_id else None,
            }
        )
    elif row.evaluation_type == "hog":
        resolved["source"] = config.get("source")
        resolved["bytecode"] = config.get("bytecode")
    elif row.evaluation_type == "python":
        resolved["source"] = config.get("source")
        resolved["threshold"] = config.get("threshold", 0.5)
        resolved["scale"] = config.get("scale", 1)
    return resolved


async def load_recipe(*, session: AsyncSession, environment_id: uuid.UUID, recipe_id: uuid.UUID) -> dict[str, Any]:
    """The recipe with evaluator references replaced by their stored definitions, for a run snapshot.

    Returns `{"id", "name", "pass_threshold", "items": [{"evaluator": {"type", ...}, "weight", "required"}]}`.
    Raises `ResourceNotFound` for an unknown recipe and `ConflictError` when a referenced evaluator was deleted.
    """
    row = await get_recipe(session=session, environment_id=environment_id, recipe_id=recipe_id)
    ids = {uuid.UUID(i["evaluator"]) for i in row.items if isinstance(i["evaluator"], str)}
    evaluators: dict[str, EvaluatorRow] = {}
    if ids:
        query = select(EvaluatorRow).where(
            EvaluatorRow.environment_id == environment_id, EvaluatorRow.id.in_(ids), EvaluatorRow.deleted.is_(False)
        )
        evaluators = {str(e.id): e for e in (await session.scalars(query)).unique()}
    items = []
    for index, item in enumerate(row.items):
        evaluator = item["evaluator"]
        if isinstance(evaluator, str):
            found = evaluators.get(evaluator)
            if found is None:
                raise ConflictError(f"Recipe item {index} refers to evaluator {evaluator}, which no longer exists")
            evaluator = _definition(found)
        loaded = {"evaluator": evaluator, "weight": item["weight"], "required": item["required"]}
        if item.get("cases_tagged"):
            loaded["cases_tagged"] = list(item["cases_tagged"])
        items.append(loaded)
    return {"id": str(row.id), "name": row.name, "pass_threshold": row.pass_threshold, "items": items}
