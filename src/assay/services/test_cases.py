"""A suite's test cases: add, edit, delete, and import from CSV or JSONL, with the API's validation.

Each function takes plain arguments and a session, raises `assay.errors` types and commits its own work.
An import stores every case of the file or none of them.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from assay.domain.conversations import (
    CONVERSATION_FIELDS,
    ChatMessage,
    ConversationSpec,
    SimulatedUser,
    ToolMock,
)
from assay.domain.storable import storable_problem
from assay.errors import ValidationFailed
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.tables import TestCaseRow

MAX_IMPORT_CASES = 10_000
IMPORT_FIELDS = (
    "input_message",
    "input",
    "expected_behavior",
    "expected_tool_calls",
    "tags",
    "sort_order",
    *CONVERSATION_FIELDS,
)
IGNORED_FIELDS = ("name",)  # suite files' case names; stored cases have none


def _storable(value: Any) -> Any:
    problem = storable_problem(value)
    if problem is not None:
        raise PydanticCustomError(*problem)
    return value


class TestCaseFields(BaseModel):
    """The fields of a test case, as the API and the web UI accept them."""

    __test__ = False
    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(_storable)

    input_message: str = Field(min_length=1, max_length=100_000)
    expected_behavior: str | None = Field(default=None, max_length=100_000)
    expected_tool_calls: list[dict[str, Any]] | None = None
    sort_order: int = Field(default=0, ge=-(2**31), le=2**31 - 1)
    tags: list[Any] = Field(default_factory=list)
    messages: list[ChatMessage] | None = Field(
        default=None, max_length=500, description="Assay extension: the turns before `input_message` (OpenAI format)."
    )
    user_turns: list[str] | None = Field(
        default=None, max_length=100, description="Assay extension: user turns sent after `input_message`, in order."
    )
    simulated_user: SimulatedUser | None = Field(
        default=None, description="Assay extension: an LLM plays the user after `input_message`."
    )
    tool_mocks: list[ToolMock] | None = Field(
        default=None, max_length=500, description="Assay extension: tool results for the agent loop."
    )
    max_steps: int | None = Field(
        default=None, ge=1, le=50, description="Assay extension: model calls per user turn in the tool loop."
    )

    @model_validator(mode="after")
    def _conversation(self) -> TestCaseFields:
        ConversationSpec.model_validate(self._conversation_values())  # user_turns with simulated_user etc.
        return self

    def _conversation_values(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(CONVERSATION_FIELDS), exclude_none=True)

    def conversation(self) -> dict[str, Any] | None:
        """The stored form of the conversation fields (None for a one-turn case)."""
        values = self._conversation_values()
        return ConversationSpec.model_validate(values).model_dump(mode="json", exclude_none=True) if values else None

    def row_fields(self) -> dict[str, Any]:
        """The columns of a stored case."""
        data = self.model_dump(exclude=set(CONVERSATION_FIELDS))
        data["conversation"] = self.conversation()
        return data


class CaseImportRejected(ValidationFailed):
    """A case file with bad lines: nothing was imported; `problems` names each line and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        super().__init__(f"Nothing was imported: {count} problem{'s' if count != 1 else ''} in the file.", attr="file")
        self.problems = problems


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return out


def validate_fields(data: dict[str, Any]) -> TestCaseFields:
    """A case's fields checked as the API checks them; `ValidationFailed` names the first problem."""
    try:
        return TestCaseFields.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        raise ValidationFailed("; ".join(_problems(exc)), attr=".".join(str(p) for p in first["loc"])) from None


def fields_from_text(
    *, input_message: str, expected_behavior: str = "", expected_tool_calls: str = "", tags: str = ""
) -> TestCaseFields:
    """A case from text fields (a form, a CSV row): tool calls as JSON, tags comma-separated or a JSON list.

    Empty text means no value. Raises `ValidationFailed` naming the field.
    """
    data: dict[str, Any] = {"input_message": input_message}
    if expected_behavior.strip():
        data["expected_behavior"] = expected_behavior
    if expected_tool_calls.strip():
        try:
            data["expected_tool_calls"] = json.loads(expected_tool_calls)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                f"expected_tool_calls: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                attr="expected_tool_calls",
            ) from None
    data["tags"] = _tags_from_text(tags)
    return validate_fields(data)


def _tags_from_text(text: str) -> list[Any]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            tags = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"tags: invalid JSON list: {exc.msg}", attr="tags") from None
        if not isinstance(tags, list):
            raise ValidationFailed("tags: must be a list", attr="tags")
        return tags
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def _record_fields(record: Any) -> TestCaseFields:
    """One JSONL object: the suite files' field names (`input` or `input_message`); unknown fields are refused."""
    if not isinstance(record, dict):
        raise ValidationFailed("a case must be a JSON object")
    unknown = sorted(set(record) - set(IMPORT_FIELDS) - set(IGNORED_FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    data = {name: value for name, value in record.items() if name not in IGNORED_FIELDS}
    if "input" in data:
        if "input_message" in data:
            raise ValidationFailed("give input or input_message, not both")
        data["input_message"] = data.pop("input")
    if "input_message" not in data:
        raise ValidationFailed("input_message (or input) is required")
    return validate_fields(data)


def _csv_fields(row: dict[str, str]) -> TestCaseFields:
    data = {name: value for name, value in row.items() if name not in IGNORED_FIELDS}
    text = data.get("input_message") or data.get("input") or ""
    if data.get("input_message") and data.get("input"):
        raise ValidationFailed("give input or input_message, not both")
    if not text.strip():
        raise ValidationFailed("input_message (or input) is required")
    fields = fields_from_text(
        input_message=text,
        expected_behavior=data.get("expected_behavior") or "",
        expected_tool_calls=data.get("expected_tool_calls") or "",
        tags=data.get("tags") or "",
    )
    order = (data.get("sort_order") or "").strip()
    if order:
        try:
            fields = validate_fields({**fields.model_dump(), "sort_order": int(order)})
        except ValueError:
            raise ValidationFailed("sort_order: must be an integer") from None
    return fields


def _read_jsonl(text: str) -> tuple[list[TestCaseFields], list[str]]:
    cases, problems = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            cases.append(_record_fields(record))
        except ValidationFailed as exc:
            problems.append(f"line {number}: {exc.message}")
    return cases, problems


def _read_csv(text: str) -> tuple[list[TestCaseFields], list[str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        return [], ["line 1: the file has no header row (columns: input or input_message, expected_behavior, ...)"]
    unknown = sorted({name for name in header if name} - set(IMPORT_FIELDS) - set(IGNORED_FIELDS))
    if unknown:
        return [], [f"line 1: unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}"]
    if "input" not in header and "input_message" not in header:
        return [], ["line 1: the header needs an input (or input_message) column"]
    reader.fieldnames = header
    cases, problems = [], []
    try:
        for row in reader:
            if None in row:
                problems.append(f"line {reader.line_num}: more values than columns")
                continue
            try:
                cases.append(_csv_fields({k: v for k, v in row.items() if k}))
            except ValidationFailed as exc:
                problems.append(f"line {reader.line_num}: {exc.message}")
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    return cases, problems


def read_case_file(filename: str, content: bytes) -> list[TestCaseFields]:
    """The cases of a `.csv` or `.jsonl` file (UTF-8); `CaseImportRejected` lists every bad line."""
    name = filename.lower()
    if not name.endswith((".csv", ".jsonl")):
        raise CaseImportRejected([f"{filename or 'the file'}: must end in .csv or .jsonl"])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaseImportRejected([f"the file is not UTF-8 text (byte {exc.start})"]) from None
    cases, problems = _read_jsonl(text) if name.endswith(".jsonl") else _read_csv(text)
    if not problems and not cases:
        problems = ["the file holds no cases"]
    if len(cases) > MAX_IMPORT_CASES:
        problems.append(f"the file holds {len(cases)} cases; at most {MAX_IMPORT_CASES} can be imported at once")
    if problems:
        raise CaseImportRejected(problems)
    return cases


async def create_test_case(
    *, session: Session, environment_id: uuid.UUID, suite_id: uuid.UUID, fields: TestCaseFields
) -> TestCaseRow:
    """Add a case to a suite of the environment (`ResourceNotFound` for another environment's suite)."""
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    row = await suite_store.create_test_case(
        session=session, environment_id=environment_id, suite_id=suite.id, fields=fields.row_fields()
    )
    await session.commit()
    return row


async def update_test_case(
    *,
    session: Session,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    case_id: uuid.UUID,
    fields: TestCaseFields,
    keep_conversation: bool = False,
) -> TestCaseRow:
    """Replace a case's fields; runs already started keep the case as it was (their snapshot).

    `keep_conversation` keeps the stored conversation fields when `fields` has none (a form without them)."""
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    row = await suite_store.get_test_case(session=session, suite_id=suite.id, case_id=case_id)
    values = fields.row_fields()
    if keep_conversation and values["conversation"] is None:
        values["conversation"] = row.conversation
    row = await suite_store.update_test_case(session=session, row=row, fields=values)
    await session.commit()
    return row


async def delete_test_case(
    *, session: Session, environment_id: uuid.UUID, suite_id: uuid.UUID, case_id: uuid.UUID
) -> None:
    """Remove a case from a suite (its past results stay with their runs)."""
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    row = await suite_store.get_test_case(session=session, suite_id=suite.id, case_id=case_id)
    await suite_store.delete_test_case(session=session, row=row)
    await session.commit()


async def import_test_cases(
    *, session: Session, environment_id: uuid.UUID, suite_id: uuid.UUID, filename: str, content: bytes
) -> int:
    """Add every case of a CSV or JSONL file, or none (`CaseImportRejected` with each bad line); the count added."""
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    cases = read_case_file(filename, content)
    await suite_store.add_test_cases(
        session=session, environment_id=environment_id, suite_id=suite.id, cases=[c.row_fields() for c in cases]
    )
    await session.commit()
    return len(cases)
