"""Suites (agent-evaluations "evaluations") and their test cases."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from assay.errors import ResourceNotFound
from assay.storage.tables import SuiteRow, TestCaseRow


async def list_suites(*, session: AsyncSession, environment_id: uuid.UUID) -> list[SuiteRow]:
    query = select(SuiteRow).where(SuiteRow.environment_id == environment_id)
    return list(await session.scalars(query.order_by(SuiteRow.created_at.desc(), SuiteRow.id.desc())))


async def get_suite(*, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID) -> SuiteRow:
    row = await session.get(SuiteRow, suite_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Evaluation not found")
    return row


async def create_suite(*, session: AsyncSession, environment_id: uuid.UUID, fields: dict[str, Any]) -> SuiteRow:
    row = SuiteRow(environment_id=environment_id, **fields)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def update_suite(*, session: AsyncSession, row: SuiteRow, fields: dict[str, Any]) -> SuiteRow:
    for name, value in fields.items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    return row


async def find_suite_by_name(*, session: AsyncSession, environment_id: uuid.UUID, name: str) -> SuiteRow | None:
    """The newest suite of that name in the environment."""
    query = select(SuiteRow).where(SuiteRow.environment_id == environment_id, SuiteRow.name == name)
    return await session.scalar(query.order_by(SuiteRow.created_at.desc(), SuiteRow.id.desc()).limit(1))


async def delete_suite(*, session: AsyncSession, row: SuiteRow) -> None:
    """Remove the suite with its test cases (and, through foreign keys, everything else it owns)."""
    await session.execute(delete(TestCaseRow).where(TestCaseRow.suite_id == row.id))
    await session.delete(row)
    await session.flush()


async def list_test_cases(*, session: AsyncSession, suite_id: uuid.UUID) -> list[TestCaseRow]:
    query = select(TestCaseRow).where(TestCaseRow.suite_id == suite_id)
    return list(await session.scalars(query.order_by(TestCaseRow.sort_order, TestCaseRow.id)))


async def create_test_case(
    *, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID, fields: dict[str, Any]
) -> TestCaseRow:
    row = TestCaseRow(environment_id=environment_id, suite_id=suite_id, **fields)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def add_test_cases(
    *, session: AsyncSession, environment_id: uuid.UUID, suite_id: uuid.UUID, cases: list[dict[str, Any]]
) -> None:
    """Insert many cases in one statement (the caller commits)."""
    if cases:
        rows = [{**case, "environment_id": environment_id, "suite_id": suite_id} for case in cases]
        await session.execute(insert(TestCaseRow), rows)
        await session.flush()


async def update_test_case(*, session: AsyncSession, row: TestCaseRow, fields: dict[str, Any]) -> TestCaseRow:
    for name, value in fields.items():
        setattr(row, name, value)
    await session.flush()
    await session.refresh(row)
    return row


async def get_test_case(*, session: AsyncSession, suite_id: uuid.UUID, case_id: uuid.UUID) -> TestCaseRow:
    row = await session.get(TestCaseRow, case_id)
    if row is None or row.suite_id != suite_id:
        raise ResourceNotFound("Test case not found")
    return row


async def delete_test_case(*, session: AsyncSession, row: TestCaseRow) -> None:
    await session.delete(row)
    await session.flush()
