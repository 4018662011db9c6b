"""`/v1/evaluations/{evaluation_id}/test-cases`: the cases of a suite, in `sort_order` then creation order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from assay.api.deps import Principal, SessionDep, tenant_access
from assay.services import test_cases as case_service
from assay.services.test_cases import TestCaseFields
from assay.storage import suites as store
from assay.storage.tables import TestCaseRow

router = APIRouter(prefix="/v1/evaluations/{evaluation_id}/test-cases", tags=["Evaluations"])
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]


class TestCaseCreate(TestCaseFields):
    __test__ = False


class TestCaseResponse(BaseModel):
    __test__ = False

    created_at: datetime
    evaluation_id: uuid.UUID
    expected_behavior: str | None
    expected_tool_calls: list[dict[str, Any]] | None
    id: uuid.UUID
    input_message: str
    sort_order: int
    tags: list[Any]
    messages: list[dict[str, Any]] | None = Field(default=None, description="Assay extension: turns before the input.")
    user_turns: list[str] | None = Field(default=None, description="Assay extension: user turns after the input.")
    simulated_user: dict[str, Any] | None = Field(default=None, description="Assay extension: an LLM plays the user.")
    tool_mocks: list[dict[str, Any]] | None = Field(default=None, description="Assay extension: mocked tool results.")
    max_steps: int | None = Field(default=None, description="Assay extension: model calls per user turn.")


def to_response(row: TestCaseRow) -> TestCaseResponse:
    conversation = row.conversation or {}
    return TestCaseResponse(
        created_at=row.created_at,
        evaluation_id=row.suite_id,
        expected_behavior=row.expected_behavior,
        expected_tool_calls=row.expected_tool_calls,
        id=row.id,
        input_message=row.input_message,
        sort_order=row.sort_order,
        tags=row.tags,
        messages=conversation.get("messages"),
        user_turns=conversation.get("user_turns"),
        simulated_user=conversation.get("simulated_user"),
        tool_mocks=conversation.get("tool_mocks"),
        max_steps=conversation.get("max_steps"),
    )


@router.get("")
async def list_test_cases(evaluation_id: uuid.UUID, session: SessionDep, principal: Access) -> list[TestCaseResponse]:
    """List Test Cases"""
    suite = await store.get_suite(session=session, environment_id=principal.environment_id, suite_id=evaluation_id)
    return [to_response(r) for r in await store.list_test_cases(session=session, suite_id=suite.id)]


@router.post("", status_code=201)
async def add_test_case(
    evaluation_id: uuid.UUID, body: TestCaseCreate, session: SessionDep, principal: Access
) -> TestCaseResponse:
    """Add Test Case"""
    row = await case_service.create_test_case(
        session=session, environment_id=principal.environment_id, suite_id=evaluation_id, fields=body
    )
    return to_response(row)


@router.delete("/{case_id}", status_code=204, response_class=Response)
async def delete_test_case(
    evaluation_id: uuid.UUID, case_id: uuid.UUID, session: SessionDep, principal: Access
) -> Response:
    """Delete Test Case"""
    await case_service.delete_test_case(
        session=session, environment_id=principal.environment_id, suite_id=evaluation_id, case_id=case_id
    )
    return Response(status_code=204)
