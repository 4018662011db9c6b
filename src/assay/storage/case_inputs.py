"""The input messages of a few test cases, to label results on pages that list them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.tables import TestCaseRow


async def case_inputs(*, session: AsyncSession, suite_id: uuid.UUID, case_ids: list[str]) -> dict[str, str]:
    """Test case id -> input message, for the given ids of this suite (deleted cases are left out)."""
    if not case_ids:
        return {}
    ids = [uuid.UUID(c) for c in set(case_ids)]
    rows = await session.execute(
        select(TestCaseRow.id, TestCaseRow.input_message).where(
            TestCaseRow.suite_id == suite_id, TestCaseRow.id.in_(ids)
        )
    )
    return {str(case_id): message for case_id, message in rows.all()}
