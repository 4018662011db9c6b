"""`/v1/instances`: the agents under test.

Body: `{"name", "kind": "openai_chat" | "http", "config": {...}}` with `kind` beside `config` (a `kind` inside
`config` must agree with it). Secrets are write-only: responses show `"********"` where one is set. They
are the `api_key`, every header value not marked `"secret": false` (Content-Type, Accept and a few other
common headers are public unless marked secret) and every URL query value not named in `public_query`.
On PATCH, `config` keys that are sent replace the stored ones and the others are kept (unless `kind`
changes, then `config` is complete); a secret sent as `"********"`, or omitted, keeps the stored one (and
stays secret); `"api_key": null` removes the key.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from assay.api.deps import Principal, SessionDep, tenant_access
from assay.api.safe_json import check_storable
from assay.storage import instances as store
from assay.storage.run_tables import InstanceRow
from assay.targets.spec import parse_spec
from assay.targets.stored import SecretNotStored, fill_secrets, scrub, split_secrets, validation_errors


class _NoInputRoute(APIRoute):
    """FastAPI puts the offending value (`input`) in 422s; a config may hold secrets, so leave it out."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
                raise RequestValidationError(errors) from None

        return route


router = APIRouter(prefix="/v1/instances", tags=["Instances"], route_class=_NoInputRoute)
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]
Kind = Literal["openai_chat", "http"]


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "This field may not be null.")
    return value


def _not_python(value: Any) -> Any:
    if value == "python":  # trusted local code: `assay run` only, never through the API
        raise PydanticCustomError("kind", "kind 'python' runs local code and is only available to `assay run`.")
    return value


class InstanceCreate(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    _storable = field_validator("*", mode="before")(check_storable)
    _kind = field_validator("kind", mode="before")(_not_python)

    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    config: dict[str, Any] = Field(description="The endpoint: see `OpenAIChatSpec` and `HttpSpec`.")


class InstanceUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    _storable = field_validator("*", mode="before")(check_storable)
    _no_null = field_validator("name", "kind", "config", mode="before")(_not_null)
    _kind = field_validator("kind", mode="before")(_not_python)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: Kind | None = None
    config: dict[str, Any] | None = None


class InstanceResponse(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    config: dict[str, Any]
    """Secrets appear as `"********"`."""
    created_at: datetime
    updated_at: datetime | None


def to_response(row: InstanceRow) -> InstanceResponse:
    return InstanceResponse(
        id=row.id,
        tenant_id=row.environment_id,
        name=row.name,
        kind=row.kind,
        config=row.config,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _validate(kind: str, config: dict[str, Any], stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(public config, secrets) of a submitted config, or a 422 that names no secret."""
    if "kind" in config and config["kind"] != kind:
        raise RequestValidationError(
            [{"loc": ["body", "config", "kind"], "msg": f"must be {kind!r}, as `kind` says", "type": "value_error"}]
        )
    try:
        spec = parse_spec({**fill_secrets(config, stored), "kind": kind})
    except SecretNotStored as exc:
        raise RequestValidationError(
            [{"loc": ["body", "config", *exc.loc], "msg": str(exc), "type": "value_error"}]
        ) from None
    except ValidationError as exc:
        raise RequestValidationError(validation_errors(exc, kind, config)) from None
    except (ValueError, TypeError) as exc:  # a validator that raised outside pydantic's wrapping
        msg = scrub(str(exc), config)
        raise RequestValidationError([{"loc": ["body", "config"], "msg": msg, "type": "value_error"}]) from None
    return split_secrets(spec)


@router.get("")
async def list_instances(session: SessionDep, principal: Access) -> list[InstanceResponse]:
    """List Instances"""
    rows = await store.list_instances(session=session, environment_id=principal.environment_id)
    return [to_response(r) for r in rows]


@router.post("", status_code=201)
async def create_instance(
    body: InstanceCreate, request: Request, session: SessionDep, principal: Access
) -> InstanceResponse:
    """Create Instance"""
    config, secrets = _validate(body.kind, body.config, {})
    row = await store.create_instance(
        session=session,
        environment_id=principal.environment_id,
        name=body.name,
        kind=body.kind,
        config=config,
        secrets=secrets,
        secret_key=request.app.state.settings.secret_key,
    )
    await session.commit()
    return to_response(row)


@router.get("/{instance_id}")
async def get_instance(instance_id: uuid.UUID, session: SessionDep, principal: Access) -> InstanceResponse:
    """Get Instance"""
    row = await store.get_instance(session=session, environment_id=principal.environment_id, instance_id=instance_id)
    return to_response(row)


@router.patch("/{instance_id}")
async def update_instance(
    instance_id: uuid.UUID, body: InstanceUpdate, request: Request, session: SessionDep, principal: Access
) -> InstanceResponse:
    """Update Instance"""
    secret_key: str = request.app.state.settings.secret_key
    row = await store.get_instance(session=session, environment_id=principal.environment_id, instance_id=instance_id)
    config = secrets = None
    kind = body.kind or row.kind
    if body.config is not None or kind != row.kind:
        same_kind = kind == row.kind
        submitted = {**row.config, **body.config} if same_kind and body.config is not None else body.config or {}
        stored = store.read_secrets(row=row, secret_key=secret_key) if same_kind else {}
        config, secrets = _validate(kind, submitted, stored)
    row = await store.update_instance(
        session=session,
        row=row,
        name=body.name,
        kind=kind,
        config=config,
        secrets=secrets,
        secret_key=secret_key,
    )
    await session.commit()
    return to_response(row)


@router.delete("/{instance_id}", status_code=204, response_class=Response)
async def delete_instance(instance_id: uuid.UUID, session: SessionDep, principal: Access) -> Response:
    """Delete Instance (evaluations that used it are left without an instance)"""
    row = await store.get_instance(session=session, environment_id=principal.environment_id, instance_id=instance_id)
    await store.delete_instance(session=session, row=row)
    await session.commit()
    return Response(status_code=204)
