"""`/v1/recipes`: weighted sets of evaluators that score a case 0-100.

An item's `evaluator` is the id of an evaluator of this environment (`/api/…/evaluations`) or an inline
config: a built-in check (`equals`, `contains`, `regex`, `json_schema`, `tool_call_match`, …), an
`llm_judge` (`prompt`, `output_type`, `allows_na`, `model: {provider, model, provider_key_id}`) or `hog`
(`source`, compiled on save) or `python` with `source` (run in the server's sandbox); `python` with `function`
runs local code and is refused here (it belongs to `assay run` and `assay.evals`). Invalid items are 422s at `["body", "items", <index>, "evaluator", …]`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, field_validator, model_serializer
from pydantic_core import PydanticCustomError

from assay.api.deps import Principal, SessionDep, tenant_access
from assay.api.safe_json import check_storable
from assay.domain.runs import DEFAULT_PASS_THRESHOLD
from assay.evaluators.recipe import RecipeItem
from assay.evaluators.recipe_items import InlineError, validate_inline
from assay.services.evaluations import require_sandbox
from assay.storage import provider_keys as key_store
from assay.storage import recipes as store
from assay.storage.run_tables import RecipeRow

router = APIRouter(prefix="/v1/recipes", tags=["Recipes"])
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]
MAX_ITEMS = 100
PYTHON_REFUSED = (
    "type 'python' with `function` runs local code and is only available to `assay run` and `assay.evals`;"
    " give `source` to run it in the server's sandbox."
)


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "This field may not be null.")
    return value


class RecipeCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(check_storable)

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=100_000)
    items: list[RecipeItem] = Field(min_length=1, max_length=MAX_ITEMS)
    pass_threshold: float = Field(default=DEFAULT_PASS_THRESHOLD, ge=0, le=100, allow_inf_nan=False)
    """A case passes when its score (0-100) reaches this."""


class RecipeUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(check_storable)
    _no_null = field_validator("name", "items", "pass_threshold", mode="before")(_not_null)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=100_000)
    items: list[RecipeItem] | None = Field(default=None, min_length=1, max_length=MAX_ITEMS)
    pass_threshold: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)


class RecipeItemResponse(BaseModel):
    evaluator: str | dict[str, Any]
    weight: float
    required: bool
    cases_tagged: list[str] | None = Field(
        default=None,
        description="An Assay extension, present only when set: the item scores only cases with one of these tags.",
    )

    @model_serializer(mode="wrap")
    def _omit_unset_tags(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]  # noqa: ANN202
        # no return annotation: pydantic would document the annotation instead of this model's fields
        data: dict[str, Any] = handler(self)
        if data.get("cases_tagged") is None:
            data.pop("cases_tagged", None)
        return data


class RecipeResponse(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    description: str | None
    items: list[RecipeItemResponse]
    pass_threshold: float
    created_at: datetime
    updated_at: datetime | None


def to_response(row: RecipeRow) -> RecipeResponse:
    return RecipeResponse(
        id=row.id,
        tenant_id=row.environment_id,
        name=row.name,
        description=row.description,
        items=[RecipeItemResponse.model_validate(i) for i in row.items],
        pass_threshold=row.pass_threshold,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _error(index: int, loc: list[Any], msg: str, type_: str = "value_error") -> dict[str, Any]:
    return {"loc": ["body", "items", index, "evaluator", *loc], "msg": msg, "type": type_}


async def _check_items(session: SessionDep, environment_id: uuid.UUID, items: list[RecipeItem]) -> list[dict[str, Any]]:
    """The items as stored, or a 422 listing every invalid one."""
    errors: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    refs: dict[int, uuid.UUID] = {}
    key_refs: dict[int, tuple[uuid.UUID, str]] = {}
    for index, item in enumerate(items):
        evaluator: str | dict[str, Any] = item.evaluator
        if isinstance(evaluator, str):
            try:
                refs[index] = uuid.UUID(evaluator)
                evaluator = str(refs[index])
            except ValueError:
                errors.append(_error(index, [], "must be an evaluator id (a UUID) or an inline config", "uuid_parsing"))
        elif evaluator.get("type") == "python" and "function" in evaluator:  # trusted local code: never stored
            errors.append(_error(index, ["type"], PYTHON_REFUSED, "python_not_allowed"))
        else:
            try:
                evaluator = validate_inline(evaluator)
            except InlineError as exc:
                errors.extend(_error(index, e["loc"], e["msg"], e["type"]) for e in exc.errors)
            else:
                model = evaluator.get("model") if evaluator["type"] == "llm_judge" else None
                if model and model.get("provider_key_id"):
                    key_refs[index] = (uuid.UUID(model["provider_key_id"]), model["provider"])
        entry: dict[str, Any] = {"evaluator": evaluator, "weight": item.weight, "required": item.required}
        if item.cases_tagged:
            entry["cases_tagged"] = list(item.cases_tagged)
        stored.append(entry)
    found = await store.existing_evaluator_ids(session=session, environment_id=environment_id, ids=set(refs.values()))
    for index, evaluator_id in refs.items():
        if evaluator_id not in found:
            errors.append(_error(index, [], f"Evaluator {evaluator_id} not found", "does_not_exist"))
    keys = await key_store.find_provider_keys(
        session=session, environment_id=environment_id, ids={k for k, _ in key_refs.values()}
    )
    for index, (key_id, provider) in key_refs.items():
        key = keys.get(key_id)
        if key is None:
            errors.append(_error(index, ["model", "provider_key_id"], "Provider key not found", "does_not_exist"))
        elif key.provider != provider:
            msg = f"Provider '{provider}' does not match key provider '{key.provider}'"
            errors.append(_error(index, ["model", "provider"], msg))
    if errors:
        raise RequestValidationError(sorted(errors, key=lambda e: e["loc"][2]))
    if any(isinstance(s["evaluator"], dict) and s["evaluator"].get("type") == "python" for s in stored):
        await require_sandbox()
    return stored


@router.get("")
async def list_recipes(session: SessionDep, principal: Access) -> list[RecipeResponse]:
    """List Recipes"""
    return [to_response(r) for r in await store.list_recipes(session=session, environment_id=principal.environment_id)]


@router.post("", status_code=201)
async def create_recipe(body: RecipeCreate, session: SessionDep, principal: Access) -> RecipeResponse:
    """Create Recipe"""
    items = await _check_items(session, principal.environment_id, body.items)
    fields = {"name": body.name, "description": body.description, "items": items, "pass_threshold": body.pass_threshold}
    row = await store.create_recipe(session=session, environment_id=principal.environment_id, fields=fields)
    await session.commit()
    return to_response(row)


@router.get("/{recipe_id}")
async def get_recipe(recipe_id: uuid.UUID, session: SessionDep, principal: Access) -> RecipeResponse:
    """Get Recipe"""
    return to_response(
        await store.get_recipe(session=session, environment_id=principal.environment_id, recipe_id=recipe_id)
    )


@router.patch("/{recipe_id}")
async def update_recipe(
    recipe_id: uuid.UUID, body: RecipeUpdate, session: SessionDep, principal: Access
) -> RecipeResponse:
    """Update Recipe (`items`, when given, replace the list)"""
    row = await store.get_recipe(session=session, environment_id=principal.environment_id, recipe_id=recipe_id)
    fields: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set if name != "items"}
    if body.items is not None:
        fields["items"] = await _check_items(session, principal.environment_id, body.items)
    row = await store.update_recipe(session=session, row=row, fields=fields)
    await session.commit()
    return to_response(row)


@router.delete("/{recipe_id}", status_code=204, response_class=Response)
async def delete_recipe(recipe_id: uuid.UUID, session: SessionDep, principal: Access) -> Response:
    """Delete Recipe (evaluations that used it fall back to the default recipe)"""
    row = await store.get_recipe(session=session, environment_id=principal.environment_id, recipe_id=recipe_id)
    await store.delete_recipe(session=session, row=row)
    await session.commit()
    return Response(status_code=204)
