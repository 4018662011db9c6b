"""Adding many test cases to a suite at once (imports, seeding): one INSERT per chunk, never a row at a time."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from assay.storage.ids import uuid7
from assay.storage.tables import TestCaseRow
from assay.storage.types import utcnow

INSERT_CHUNK = 1000


async def insert_test_cases(
    *,
    session: AsyncSession,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    cases: list[dict[str, Any]],
    first_sort_order: int = 0,
) -> list[uuid.UUID]:
    """Insert `cases` (dicts of `input_message`, `expected_behavior`, `expected_tool_calls`, `tags`) in this
    order, numbered from `first_sort_order`; returns their new ids. The caller commits."""
    now = utcnow()
    rows = [
        {
            "id": uuid7(),
            "environment_id": environment_id,
            "suite_id": suite_id,
            "input_message": case["input_message"],
            "expected_behavior": case.get("expected_behavior"),
            "expected_tool_calls": case.get("expected_tool_calls"),
            "tags": list(case.get("tags") or []),
            "sort_order": first_sort_order + index,
            "created_at": now,
        }
        for index, case in enumerate(cases)
    ]
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(TestCaseRow), rows[start : start + INSERT_CHUNK])
    return [row["id"] for row in rows]
