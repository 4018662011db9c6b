"""The evaluation editor: `llm_judge` (prompt, model configuration, allows N/A) and `hog` (source with line
numbers and compile errors shown as one types, through `POST /evaluations/compile`). Saving goes through the
evaluations service, so the form is validated exactly as the API validates a body."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from assay.domain.evaluator_config import MAX_HOG_SOURCE_LENGTH
from assay.domain.messages import extract_event_io, text_preview
from assay.domain.providers import PROVIDERS
from assay.errors import ValidationFailed
from assay.services import evaluations as evaluation_service
from assay.services import hog_trials, judge_trials
from assay.storage import evaluators as evaluator_store
from assay.storage.tables import EvaluatorRow
from assay.web.auth import DbSession, User, WebUser
from assay.web.errors import mark_page
from assay.web.pages.evaluations import parse_evaluation_id
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

TYPES = ("llm_judge", "hog")
MAX_PROMPT_LENGTH = 100_000
DEFAULT_HOG = "// `input`, `output` and `properties` describe the event.\nreturn length(output) > 0\n"


def draft_of(row: EvaluatorRow | None, evaluation_type: str) -> dict[str, Any]:
    """The editor's fields: from a stored evaluation, or blank for a new one."""
    if row is None:
        return {
            "name": "",
            "description": "",
            "evaluation_type": evaluation_type,
            "enabled": False,
            "prompt": "",
            "source": DEFAULT_HOG,
            "allows_na": False,
            "provider": "openai",
            "model": "",
            "conditions": json.dumps([{"properties": [], "rollout_percentage": 100}], indent=2),
        }
    config = row.model_configuration
    return {
        "name": row.name,
        "description": row.description,
        "evaluation_type": row.evaluation_type,
        "enabled": row.enabled,
        "prompt": str(row.evaluation_config.get("prompt", "")),
        "source": str(row.evaluation_config.get("source", "")),
        "allows_na": bool(row.output_config.get("allows_na", False)),
        "provider": config.provider if config else "openai",
        "model": config.model if config else "",
        "conditions": json.dumps(
            [{k: v for k, v in c.items() if k not in ("bytecode", "bytecode_error")} for c in row.conditions or []],
            indent=2,
        ),
    }


async def editor(
    request: Request,
    user: WebUser,
    row: EvaluatorRow | None,
    draft: dict[str, Any],
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    problems = evaluation_service.hog_problems(draft["source"]) if draft["evaluation_type"] == "hog" else []
    recent = []
    if draft["evaluation_type"] == "llm_judge":
        rows = await judge_trials.recent_generations(
            sessionmaker=request.app.state.sessionmaker, environment_id=user.environment_id
        )
        recent = [(str(r.uuid), text_preview(extract_event_io(r.event, r.properties)[1], 80)) for r in rows]
    return render(
        request,
        "evaluation_editor.html",
        {
            "evaluator": row,
            "draft": draft,
            "error": error,
            "problems": problems,
            "providers": PROVIDERS,
            "types": TYPES,
            "recent_events": recent,
            "can_write": user.can_write("evaluation"),
        },
        status_code=status,
    )


@router.post("/evaluations/compile")
async def compile_hog(
    user: User, source: Annotated[str, Body(embed=True, max_length=MAX_HOG_SOURCE_LENGTH)]
) -> JSONResponse:
    """Compile Hog source without saving: `{"errors": [{"line", "column", "message"}]}` (empty when it compiles)."""
    user.require_read("evaluation")
    problems = evaluation_service.hog_problems(source)
    return JSONResponse({"errors": [{"line": p.line, "column": p.column, "message": p.message} for p in problems]})


@router.post("/evaluations/playground")
async def playground(
    session: DbSession,
    user: User,
    source: Annotated[str, Body(max_length=MAX_HOG_SOURCE_LENGTH)],
    sample_count: Annotated[int, Body(ge=1, le=10)] = 5,
    allows_na: Annotated[bool, Body()] = False,
    conditions: Annotated[list[dict[str, Any]] | None, Body()] = None,
) -> JSONResponse:
    """Run draft Hog on recent events without saving, as the API's `test_hog`: `{"results", "message"}`."""
    user.require_read("evaluation")
    if not source.strip():
        return JSONResponse({"error": "The source may not be blank."}, status_code=400)
    try:
        trial = await hog_trials.try_hog(
            session=session,
            environment_id=user.environment_id,
            source=source,
            sample_count=sample_count,
            allows_na=allows_na,
            conditions=conditions or [],
        )
    except hog_trials.HogTrialRefused as refused:
        return JSONResponse({"error": refused.error}, status_code=400)
    return JSONResponse({"results": [r.to_json() for r in trial.results], "message": trial.message})


@router.post("/evaluations/judge-playground")
async def judge_playground(
    request: Request,
    session: DbSession,
    user: User,
    prompt: Annotated[str, Body(max_length=MAX_PROMPT_LENGTH)],
    event_uuid: Annotated[uuid.UUID, Body()],
    allows_na: Annotated[bool, Body()] = False,
    provider: Annotated[str, Body(max_length=40)] = "",
    model: Annotated[str, Body(max_length=100)] = "",
    evaluation_id: Annotated[uuid.UUID | None, Body()] = None,
) -> JSONResponse:
    """Run the draft judge on one event without saving: `{"result": …}` as `JudgeTrial.to_json`, or `{"error"}`."""
    user.require_read("evaluation")
    configuration: dict[str, Any] | None = None
    if model.strip():
        if provider not in PROVIDERS:
            return JSONResponse({"error": f"Unknown provider '{provider}'."}, status_code=400)
        configuration = {"provider": provider, "model": model.strip()}
        if evaluation_id is not None:  # the saved evaluation's provider key, while the provider is unchanged
            row = await evaluator_store.get_evaluator(
                session=session, environment_id=user.environment_id, evaluator_id=evaluation_id
            )
            stored = row.model_configuration
            if stored is not None and stored.provider == provider and stored.provider_key_id is not None:
                configuration["provider_key_id"] = str(stored.provider_key_id)
    await session.close()  # the judge may take seconds: hold no connection meanwhile
    try:
        trial = await judge_trials.try_judge(
            sessionmaker=request.app.state.sessionmaker,
            settings=request.app.state.settings,
            environment_id=user.environment_id,
            event_uuid=event_uuid,
            prompt=prompt,
            allows_na=allows_na,
            model_configuration=configuration,
        )
    except ValidationFailed as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse({"result": trial.to_json()})


@router.get("/evaluations/new")
async def new_evaluation_page(
    request: Request, user: User, evaluation_type: Annotated[str, Query(alias="type", max_length=20)] = "llm_judge"
) -> Response:
    """A blank editor for a new evaluation of the given type."""
    user.require_write("evaluation")
    return await editor(
        request, user, None, draft_of(None, evaluation_type if evaluation_type in TYPES else "llm_judge")
    )


@router.get("/evaluations/{evaluation_id}")
async def evaluation_page(request: Request, evaluation_id: str, session: DbSession, user: User) -> Response:
    """The editor of one evaluation (read-only for keys without evaluation:write)."""
    user.require_read("evaluation")
    row = await evaluator_store.get_evaluator(
        session=session, environment_id=user.environment_id, evaluator_id=parse_evaluation_id(evaluation_id)
    )
    return await editor(request, user, row, draft_of(row, row.evaluation_type))


async def form_draft(request: Request) -> dict[str, Any]:
    """The editor's fields as posted (checkboxes absent mean false)."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    return {
        "name": text("name").strip(),
        "description": text("description"),
        "evaluation_type": text("evaluation_type"),
        "enabled": text("enabled") == "on",
        "prompt": text("prompt"),
        "source": text("source").replace("\r\n", "\n"),
        "allows_na": text("allows_na") == "on",
        "provider": text("provider"),
        "model": text("model").strip(),
        "conditions": text("conditions"),
    }


def fields_of(draft: dict[str, Any]) -> tuple[dict[str, Any], evaluation_service.ModelConfigurationInput | None]:
    """The API's writable fields from the editor's draft; a bad form is a `ValidationFailed`."""
    if draft["evaluation_type"] not in TYPES:
        raise ValidationFailed("evaluation_type must be llm_judge or hog.", attr="evaluation_type")
    if not draft["name"]:
        raise ValidationFailed("The name may not be blank.", attr="name")
    if len(draft["name"]) > 400:
        raise ValidationFailed("The name may have at most 400 characters.", attr="name")
    try:
        conditions = json.loads(draft["conditions"] or "[]")
    except ValueError as exc:
        raise ValidationFailed(f"Conditions are not valid JSON: {exc}", attr="conditions") from None
    is_hog = draft["evaluation_type"] == "hog"
    fields = {
        "name": draft["name"],
        "description": draft["description"],
        "enabled": draft["enabled"],
        "evaluation_type": draft["evaluation_type"],
        "output_type": "boolean",
        "evaluation_config": {"source": draft["source"]} if is_hog else {"prompt": draft["prompt"]},
        "output_config": {"allows_na": draft["allows_na"]},
        "conditions": conditions,
    }
    model = None
    if not is_hog and draft["model"]:
        if draft["provider"] not in PROVIDERS:
            raise ValidationFailed(f"Unknown provider '{draft['provider']}'.", attr="model_configuration__provider")
        model = evaluation_service.ModelConfigurationInput(provider=draft["provider"], model=draft["model"][:100])
    return fields, model


@router.post("/evaluations/new")
async def create_evaluation(request: Request, session: DbSession, user: User) -> Response:
    """Create the evaluation from the editor; a bad form re-renders with the reason (400)."""
    user.require_write("evaluation")
    draft = await form_draft(request)
    try:
        fields, model = fields_of(draft)
        row = await evaluation_service.create_evaluation(
            session=session,
            environment_id=user.environment_id,
            created_by_id=user.key_id,
            fields=fields,
            model_configuration=model,
        )
    except ValidationFailed as exc:
        await session.rollback()
        return await editor(request, user, None, draft, error=str(exc), status=400)
    return RedirectResponse(f"/evaluations/{row.id}?saved=1", status_code=303)


@router.post("/evaluations/{evaluation_id}")
async def save_evaluation(request: Request, evaluation_id: str, session: DbSession, user: User) -> Response:
    """Save the editor's fields over the evaluation (as the API's PUT); a bad form re-renders with the reason."""
    user.require_write("evaluation")
    evaluator_id: uuid.UUID = parse_evaluation_id(evaluation_id)
    row = await evaluator_store.get_evaluator(
        session=session, environment_id=user.environment_id, evaluator_id=evaluator_id
    )
    draft = await form_draft(request)
    try:
        fields, model = fields_of(draft)
        await evaluation_service.save_evaluation(
            session=session, environment_id=user.environment_id, row=row, fields=fields, model_configuration=model
        )
    except ValidationFailed as exc:
        await session.rollback()
        row = await evaluator_store.get_evaluator(
            session=session, environment_id=user.environment_id, evaluator_id=evaluator_id
        )
        return await editor(request, user, row, draft, error=str(exc), status=400)
    return RedirectResponse(f"/evaluations/{evaluator_id}?saved=1", status_code=303)
