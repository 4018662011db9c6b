"""`services/test_cases.py` against real SQLite: the API's validation, edits, and all-or-nothing imports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assay.errors import ResourceNotFound, ValidationFailed
from assay.services import test_cases as service
from assay.storage import suites as suite_store
from assay.storage.db import Session, make_engine, make_sessionmaker
from assay.storage.environments import create_environment
from assay.storage.migrate import upgrade


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/cases.db")
    await upgrade(engine)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_create_update_delete_and_environments(session: Session) -> None:
    env = await create_environment(session=session, name="mine")
    other = await create_environment(session=session, name="theirs")
    suite = await suite_store.create_suite(session=session, environment_id=env.id, fields={"name": "s"})
    fields = service.fields_from_text(input_message="hi", tags="a, b", expected_tool_calls='[{"name": "t"}]')
    row = await service.create_test_case(session=session, environment_id=env.id, suite_id=suite.id, fields=fields)
    assert (row.tags, row.expected_tool_calls, row.expected_behavior) == (["a", "b"], [{"name": "t"}], None)
    with pytest.raises(ResourceNotFound):
        await service.update_test_case(
            session=session, environment_id=other.id, suite_id=suite.id, case_id=row.id, fields=fields
        )
    changed = service.validate_fields({"input_message": "bye", "sort_order": 4})
    row = await service.update_test_case(
        session=session, environment_id=env.id, suite_id=suite.id, case_id=row.id, fields=changed
    )
    assert (row.input_message, row.tags, row.sort_order, row.expected_tool_calls) == ("bye", [], 4, None)
    await service.delete_test_case(session=session, environment_id=env.id, suite_id=suite.id, case_id=row.id)
    assert await suite_store.list_test_cases(session=session, suite_id=suite.id) == []


def test_the_api_limits_apply() -> None:
    with pytest.raises(ValidationFailed, match="input_message: String should have at least 1 character"):
        service.validate_fields({"input_message": ""})
    with pytest.raises(ValidationFailed, match="sort_order: Input should be less than or equal to 2147483647"):
        service.validate_fields({"input_message": "x", "sort_order": 2**31})
    with pytest.raises(ValidationFailed, match="Null characters are not allowed"):
        service.validate_fields({"input_message": "x", "tags": ["a\x00"]})
    with pytest.raises(ValidationFailed, match="expected_tool_calls.0: Input should be a valid dictionary"):
        service.fields_from_text(input_message="x", expected_tool_calls="[1]")


async def test_an_import_with_one_bad_line_stores_nothing(session: Session) -> None:
    env = await create_environment(session=session, name="mine")
    suite = await suite_store.create_suite(session=session, environment_id=env.id, fields={"name": "s"})
    good = b'{"input": "a"}\n{"input_message": "b", "tags": ["t"]}\n'
    count = await service.import_test_cases(
        session=session, environment_id=env.id, suite_id=suite.id, filename="c.jsonl", content=good
    )
    assert count == 2
    with pytest.raises(service.CaseImportRejected) as rejected:
        await service.import_test_cases(
            session=session,
            environment_id=env.id,
            suite_id=suite.id,
            filename="c.jsonl",
            content=good + b'{"input": "c", "expected_tool_calls": "lookup"}\n',
        )
    assert rejected.value.problems == ["line 3: expected_tool_calls: Input should be a valid list"]
    await session.rollback()
    stored = await suite_store.list_test_cases(session=session, suite_id=suite.id)
    assert [c.input_message for c in stored] == ["a", "b"]


def test_too_many_cases_are_refused() -> None:
    content = ("input\n" + "x\n" * (service.MAX_IMPORT_CASES + 1)).encode()
    with pytest.raises(service.CaseImportRejected) as rejected:
        service.read_case_file("big.csv", content)
    assert rejected.value.problems == [
        f"the file holds {service.MAX_IMPORT_CASES + 1} cases; at most {service.MAX_IMPORT_CASES} can be imported at once"
    ]
