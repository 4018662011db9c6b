"""The suite page: its cases (search, tag filter, add, edit, delete, import), its run history, the Run button
and the choice of two runs to compare.

Reads go through `storage/suite_page.py`, writes through `services/test_cases.py` and `services/runs.py`.
A write that fails validation shows the page again with the problem next to its form (422).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from assay.engine.runs.snapshot import MAX_REPETITIONS
from assay.errors import ValidationFailed
from assay.services import runs as run_service
from assay.services import test_cases as case_service
from assay.services.test_cases import CaseImportRejected, TestCaseFields
from assay.settings import Settings
from assay.storage import suite_page as store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.run_tables import RunRow
from assay.storage.suite_page import CaseCursor
from assay.storage.tables import TestCaseRow
from assay.storage.types import utcnow
from assay.web.auth import AppSettings, DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.templating import fmt_json, render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

CASES_PER_PAGE = 50
RUNS_PER_PAGE = 25
MAX_CONCURRENCY = 1000
MAX_IMPORT_BYTES = 20 * 1024 * 1024
NOTICES = {
    "added": "Test case added.",
    "updated": "Test case saved.",
    "deleted": "Test case deleted.",
}


@dataclass(slots=True)
class CaseForm:
    """A case form's text as typed (kept when it is shown again with a problem)."""

    input_message: str = ""
    expected_behavior: str = ""
    expected_tool_calls: str = ""
    tags: str = ""
    sort_order: str = "0"

    @classmethod
    def of(cls, row: TestCaseRow) -> CaseForm:
        tags = row.tags or []
        simple = all(isinstance(t, str) and t and "," not in t and t == t.strip() for t in tags)
        return cls(
            input_message=row.input_message,
            expected_behavior=row.expected_behavior or "",
            expected_tool_calls=fmt_json(row.expected_tool_calls) if row.expected_tool_calls is not None else "",
            tags=(", ".join(tags) if simple else fmt_json(tags)) if tags else "",
            sort_order=str(row.sort_order),
        )

    def fields(self) -> TestCaseFields:
        """The validated case (`ValidationFailed` names the field)."""
        parsed = case_service.fields_from_text(
            input_message=self.input_message,
            expected_behavior=self.expected_behavior,
            expected_tool_calls=self.expected_tool_calls,
            tags=self.tags,
        )
        order = self.sort_order.strip() or "0"
        try:
            number = int(order)
        except ValueError:
            raise ValidationFailed("sort_order: must be a whole number", attr="sort_order") from None
        return case_service.validate_fields({**parsed.model_dump(), "sort_order": number})


@dataclass(slots=True)
class Problems:
    """What went wrong in one of the page's forms, shown beside it."""

    case_form: CaseForm = field(default_factory=CaseForm)
    case_error: str | None = None
    import_error: str | None = None
    import_problems: list[str] = field(default_factory=list)
    run_error: str | None = None
    run_values: dict[str, str] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.case_error or self.import_error or self.run_error)


def _duration(run: RunRow) -> float | None:
    recorded = (run.summary or {}).get("duration_s")
    if recorded is not None:
        return float(recorded)
    if run.started_at is None:
        return None
    return ((run.finished_at or utcnow()) - run.started_at).total_seconds()


def _starter_ids(runs: list[RunRow]) -> list[uuid.UUID]:
    ids = []
    for run in runs:
        try:
            ids.append(uuid.UUID(run.started_by or ""))
        except ValueError:
            continue
    return ids


async def _history(
    session: Session, user: WebUser, suite_id: uuid.UUID, runs_cursor: uuid.UUID | None
) -> dict[str, Any]:
    page = await store.page_runs(session=session, suite_id=suite_id, before=runs_cursor, limit=RUNS_PER_PAGE)
    labels = await store.key_labels(
        session=session, environment_id=user.environment_id, key_ids=_starter_ids(page.runs)
    )
    rows = [
        {
            "run": run,
            "summary": run.summary or {},
            "duration": _duration(run),
            "started_by": labels.get(run.started_by, run.started_by) if run.started_by else None,
        }
        for run in page.runs
    ]
    return {"runs": rows, "runs_next": page.next_cursor}


def _parse_uuid(text: str | None, name: str) -> uuid.UUID | None:
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationFailed(f"{name}: not a valid id", attr=name) from None


async def _suite_page(
    request: Request,
    session: Session,
    user: WebUser,
    settings: Settings,
    suite_id: uuid.UUID,
    *,
    problems: Problems | None = None,
    status_code: int = 200,
) -> Response:
    params = request.query_params
    text = (params.get("q") or "").strip() or None
    tag = params.get("tag") or None
    cursor_text = params.get("cursor")
    after = CaseCursor.decode(cursor_text) if cursor_text else None
    runs_cursor = _parse_uuid(params.get("runs_cursor"), "runs_cursor")

    header = await store.suite_header(session=session, environment_id=user.environment_id, suite_id=suite_id)
    cases = await store.page_test_cases(
        session=session, suite_id=suite_id, text=text, tag=tag, after=after, limit=CASES_PER_PAGE
    )
    tags = await store.case_tags(session=session, suite_id=suite_id)
    history = await _history(session, user, suite_id, runs_cursor)
    config = header.suite.config or {}
    problems = problems or Problems()
    run_defaults = {
        "repetitions": str(config.get("repetitions", 1)),
        "concurrency": str(config.get("concurrency", settings.run_concurrency)),
    }
    notice = NOTICES.get(params.get("notice", ""))
    imported = params.get("imported")
    if imported and imported.isdigit():
        notice = f"Imported {int(imported)} test case{'s' if int(imported) != 1 else ''}."
    return render(
        request,
        "suite.html",
        {
            "header": header,
            "suite": header.suite,
            "cases": cases,
            "tags": tags,
            "q": text or "",
            "tag": tag or "",
            "paged": after is not None,
            "first_runs_page": runs_cursor is None,
            "notice": notice,
            "problems": problems,
            "run_values": {**run_defaults, **problems.run_values},
            "max_repetitions": MAX_REPETITIONS,
            "max_concurrency": MAX_CONCURRENCY,
            **history,
        },
        status_code=status_code,
    )


def _back(suite_id: uuid.UUID, anchor: str = "cases", **query: str) -> RedirectResponse:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    return RedirectResponse(f"/suites/{suite_id}{'?' + suffix if suffix else ''}#{anchor}", status_code=303)


@router.get("/suites/{suite_id}")
async def suite_page(
    suite_id: uuid.UUID, request: Request, session: DbSession, settings: AppSettings, user: User
) -> Response:
    """The suite's header, cases (searchable, filterable by tag, keyset-paginated) and run history."""
    user.require_read("evaluation")
    return await _suite_page(request, session, user, settings, suite_id)


TextField = Annotated[str, Form()]


@router.post("/suites/{suite_id}/cases")
async def add_case(
    suite_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    input_message: TextField = "",
    expected_behavior: TextField = "",
    expected_tool_calls: TextField = "",
    tags: TextField = "",
    sort_order: TextField = "0",
) -> Response:
    """Add a case from the form; the page again with the problem when a field is invalid."""
    user.require_write("evaluation")
    form = CaseForm(input_message, expected_behavior, expected_tool_calls, tags, sort_order)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
        problems = Problems(case_form=form, case_error=exc.message)
        return await _suite_page(request, session, user, settings, suite_id, problems=problems, status_code=422)
    await case_service.create_test_case(
        session=session, environment_id=user.environment_id, suite_id=suite_id, fields=fields
    )
    return _back(suite_id, notice="added")


async def _case_page(
    request: Request,
    session: Session,
    user: WebUser,
    suite_id: uuid.UUID,
    case: TestCaseRow,
    form: CaseForm,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    return render(
        request,
        "suite_case.html",
        {"suite": suite, "case": case, "form": form, "error": error},
        status_code=status_code,
    )


@router.get("/suites/{suite_id}/cases/{case_id}")
async def case_page(
    suite_id: uuid.UUID, case_id: uuid.UUID, request: Request, session: DbSession, user: User
) -> Response:
    """One case: its fields, and a form to edit them (for keys that can write)."""
    user.require_read("evaluation")
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    case = await suite_store.get_test_case(session=session, suite_id=suite.id, case_id=case_id)
    return await _case_page(request, session, user, suite_id, case, CaseForm.of(case))


@router.post("/suites/{suite_id}/cases/{case_id}")
async def edit_case(
    suite_id: uuid.UUID,
    case_id: uuid.UUID,
    request: Request,
    session: DbSession,
    user: User,
    input_message: TextField = "",
    expected_behavior: TextField = "",
    expected_tool_calls: TextField = "",
    tags: TextField = "",
    sort_order: TextField = "0",
) -> Response:
    """Save the edited case; the form again with the problem when a field is invalid."""
    user.require_write("evaluation")
    form = CaseForm(input_message, expected_behavior, expected_tool_calls, tags, sort_order)
    try:
        fields = form.fields()
    except ValidationFailed as exc:
        suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
        case = await suite_store.get_test_case(session=session, suite_id=suite.id, case_id=case_id)
        return await _case_page(request, session, user, suite_id, case, form, exc.message, 422)
    await case_service.update_test_case(
        session=session,
        environment_id=user.environment_id,
        suite_id=suite_id,
        case_id=case_id,
        fields=fields,
        keep_conversation=True,  # the form has no conversation fields: editing keeps them
    )
    return _back(suite_id, notice="updated")


@router.post("/suites/{suite_id}/cases/{case_id}/delete")
async def delete_case(suite_id: uuid.UUID, case_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Delete a case (the page asks first when JavaScript runs)."""
    user.require_write("evaluation")
    await case_service.delete_test_case(
        session=session, environment_id=user.environment_id, suite_id=suite_id, case_id=case_id
    )
    return _back(suite_id, notice="deleted")


@router.post("/suites/{suite_id}/import")
async def import_cases(
    suite_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Import every case of a CSV or JSONL file, or none: the page again listing each bad line (422)."""
    user.require_write("evaluation")
    await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    problems: Problems | None = None
    if file is None or not file.filename:
        problems = Problems(import_error="Choose a .csv or .jsonl file to import.")
    else:
        content = await file.read(MAX_IMPORT_BYTES + 1)
        if len(content) > MAX_IMPORT_BYTES:
            problems = Problems(import_error=f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
        else:
            try:
                count = await case_service.import_test_cases(
                    session=session,
                    environment_id=user.environment_id,
                    suite_id=suite_id,
                    filename=file.filename,
                    content=content,
                )
            except CaseImportRejected as exc:
                await session.rollback()
                problems = Problems(import_error=exc.message, import_problems=exc.problems)
            else:
                return _back(suite_id, imported=str(count))
    return await _suite_page(request, session, user, settings, suite_id, problems=problems, status_code=422)


def _whole_number(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValidationFailed(f"{name} must be a whole number from {low} to {high}", attr=name) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be a whole number from {low} to {high}", attr=name)
    return value


@router.post("/suites/{suite_id}/run")
async def run_suite(
    suite_id: uuid.UUID,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    user: User,
    repetitions: TextField = "",
    concurrency: TextField = "",
) -> Response:
    """Start a run with the form's repetitions and concurrency, then open its page."""
    user.require_write("evaluation")
    try:
        reps = _whole_number(repetitions, "repetitions", 1, MAX_REPETITIONS) if repetitions.strip() else None
        workers = _whole_number(concurrency, "concurrency", 1, MAX_CONCURRENCY) if concurrency.strip() else None
        dispatcher = getattr(request.app.state, "dispatcher", None)
        run = await run_service.start_run(
            session=session,
            environment_id=user.environment_id,
            suite_id=suite_id,
            settings=settings,
            notify=dispatcher.notify if dispatcher is not None else None,
            repetitions=reps,
            concurrency=workers,
            started_by=user.who[:100],  # the column holds 100 characters
        )
    except ValidationFailed as exc:
        await session.rollback()
        problems = Problems(run_error=exc.message, run_values={"repetitions": repetitions, "concurrency": concurrency})
        return await _suite_page(request, session, user, settings, suite_id, problems=problems, status_code=422)
    return RedirectResponse(f"/runs/{run.id}", status_code=303)
