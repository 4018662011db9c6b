"""A suite's links to its instance and recipe."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.instances import instance_exists
from assay.storage.recipes import recipe_exists


async def missing_links(
    *, session: AsyncSession, environment_id: uuid.UUID, instance_id: uuid.UUID | None, recipe_id: uuid.UUID | None
) -> list[str]:
    """The fields (`instance_id`, `recipe_id`) that name no object of the environment."""
    missing = []
    if instance_id is not None and not await instance_exists(
        session=session, environment_id=environment_id, instance_id=instance_id
    ):
        missing.append("instance_id")
    if recipe_id is not None and not await recipe_exists(
        session=session, environment_id=environment_id, recipe_id=recipe_id
    ):
        missing.append("recipe_id")
    return missing
