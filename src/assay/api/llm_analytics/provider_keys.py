"""`/api/environments/{environment_id}/llm_provider_keys`: LLM provider keys for judges.

`api_key` is write-only: responses carry `api_key_mask` (such as `sk-…abcd`). A new `api_key` resets `state`
to `unknown`. The provider of a key cannot change. Deleting a key that model configurations use leaves
them without a key (`provider_key_id` null). A key for a local OpenAI-compatible server without auth needs
only `base_url`: `api_key` may then be left out (or null, or blank), and calls carry no secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.llm_analytics.common import (
    ERROR_RESPONSES,
    WriteModel,
    not_blank,
    not_null_or_blank,
    parse_object_id,
    scopes_doc,
)
from assay.api.pagination import Page, PageParams, make_page, page_params
from assay.domain.providers import Provider
from assay.domain.secrets import SecretDecryptionError
from assay.errors import ValidationFailed
from assay.services import provider_keys as service
from assay.storage import provider_keys as store
from assay.storage.tables import ProviderKeyRow

router = APIRouter(
    prefix="/api/environments/{environment_id}/llm_provider_keys", tags=["llm_provider_keys"], responses=ERROR_RESPONSES
)
Access = Annotated[Principal, Depends(environment_access("evaluation"))]


def _base_url(value: str | None) -> str | None:
    return service.normalize_base_url(value)


def _api_key(value: Any, info: ValidationInfo) -> Any:
    """A key is optional when `base_url` is given (a local server without auth); otherwise required, not blank."""
    if info.data.get("base_url") and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    value = not_null_or_blank(value) if value is None or isinstance(value, str) else value
    return value.strip() if isinstance(value, str) else value


def _patch_api_key(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ProviderKeyFields(WriteModel):
    base_url: str | None = Field(
        default=None, max_length=service.MAX_BASE_URL_LENGTH, description="For OpenAI-compatible servers."
    )
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000_000)

    _url = field_validator("base_url")(_base_url)


class ProviderKeyWrite(ProviderKeyFields):
    provider: Provider
    name: str = Field(max_length=service.MAX_NAME_LENGTH)
    api_key: str | None = Field(
        default=None,
        max_length=service.MAX_API_KEY_LENGTH,
        description="Write-only. Optional when base_url names a server without auth.",
    )

    _name = field_validator("name")(not_blank)
    _key = field_validator("api_key", mode="before")(_api_key)


class ProviderKeyPatch(ProviderKeyFields):
    provider: Provider | None = None
    name: str | None = Field(default=None, max_length=service.MAX_NAME_LENGTH)
    api_key: str | None = Field(
        default=None,
        max_length=service.MAX_API_KEY_LENGTH,
        description="Write-only. null (or blank) removes it from a key with base_url.",
    )

    _not_null = field_validator("name", "provider", mode="before")(
        lambda v: not_null_or_blank(v) if v is None or isinstance(v, str) else v
    )
    _key = field_validator("api_key", mode="before")(_patch_api_key)


class ProviderKeyPublic(BaseModel):
    id: str
    provider: str
    name: str
    state: str
    error_message: str | None
    base_url: str | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    api_key_mask: str | None
    created_at: datetime
    last_used_at: datetime | None


def to_public(row: ProviderKeyRow, secret_key: str) -> ProviderKeyPublic:
    mask = service.api_key_mask(row, secret_key)
    return ProviderKeyPublic(
        id=str(row.id),
        provider=row.provider,
        name=row.name,
        state=row.state,
        error_message=row.error_message,
        base_url=row.base_url,
        requests_per_minute=row.requests_per_minute,
        tokens_per_minute=row.tokens_per_minute,
        api_key_mask=mask,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def _has_secret(row: ProviderKeyRow, secret_key: str) -> bool:
    try:
        return store.read_api_key(row=row, secret_key=secret_key) is not None
    except SecretDecryptionError:
        return True  # unreadable, but there is one


def _secret_key(request: Request) -> str:
    secret_key: str = request.app.state.settings.secret_key
    return secret_key


@router.get("", openapi_extra=scopes_doc("evaluation:read"))
async def list_provider_keys(
    request: Request,
    session: SessionDep,
    principal: Access,
    page: Annotated[PageParams, Depends(page_params)],
    provider: Annotated[Provider | None, Query(description="Only keys of this provider.")] = None,
) -> Page[ProviderKeyPublic]:
    """List the environment's provider keys, newest first."""
    count, rows = await store.list_provider_keys(
        session=session,
        environment_id=principal.environment_id,
        limit=page.limit,
        offset=page.offset,
        provider=provider,
    )
    secret_key = _secret_key(request)
    return make_page(request, page, count, [to_public(r, secret_key) for r in rows])  # type: ignore[return-value]


@router.post("", status_code=201, openapi_extra=scopes_doc("evaluation:write"))
async def create_provider_key(
    body: ProviderKeyWrite, request: Request, session: SessionDep, principal: Access
) -> ProviderKeyPublic:
    """Add a provider key."""
    fields = body.model_dump(include={"provider", "name", "base_url", "requests_per_minute", "tokens_per_minute"})
    row = await service.create_provider_key(
        session=session,
        environment_id=principal.environment_id,
        fields=fields,
        api_key=body.api_key,
        secret_key=_secret_key(request),
        created_by_id=principal.key_id,
        api_key_sent="api_key" in body.model_fields_set,
    )
    return to_public(row, _secret_key(request))


@router.get("/{id}", openapi_extra=scopes_doc("evaluation:read"))
async def retrieve_provider_key(id: str, request: Request, session: SessionDep, principal: Access) -> ProviderKeyPublic:
    """Retrieve one provider key."""
    row = await store.get_provider_key(
        session=session, environment_id=principal.environment_id, key_id=parse_object_id(id)
    )
    return to_public(row, _secret_key(request))


@router.patch("/{id}", openapi_extra=scopes_doc("evaluation:write"))
async def update_provider_key(
    id: str, body: ProviderKeyPatch, request: Request, session: SessionDep, principal: Access
) -> ProviderKeyPublic:
    """Update some fields; a new `api_key` resets `state` to `unknown`."""
    row = await store.get_provider_key(
        session=session, environment_id=principal.environment_id, key_id=parse_object_id(id)
    )
    if body.provider is not None and body.provider != row.provider:
        raise ValidationFailed("The provider of a key cannot be changed.", attr="provider")
    given = body.model_fields_set & {"name", "base_url", "requests_per_minute", "tokens_per_minute"}
    if row.provider == "azure_openai" and "base_url" in given and not body.base_url:
        raise ValidationFailed(service.AZURE_NEEDS_BASE_URL, attr="base_url", code="required")
    fields = {name: getattr(body, name) for name in given}
    remove = "api_key" in body.model_fields_set and not body.api_key
    base_url = body.base_url if "base_url" in given else row.base_url
    if not base_url:
        if remove:
            code = "blank" if body.api_key == "" else "null"
            raise ValidationFailed(service.NO_KEY_MESSAGE, attr="api_key", code=code)
        if not body.api_key and not _has_secret(row, _secret_key(request)):
            raise ValidationFailed(
                "A key without api_key needs the base_url of its server.", attr="base_url", code="required"
            )
    row = await store.update_provider_key(
        session=session,
        row=row,
        fields=fields,
        api_key=body.api_key or None,
        secret_key=_secret_key(request),
        remove_api_key=remove,
    )
    await session.commit()
    return to_public(row, _secret_key(request))


@router.delete("/{id}", status_code=204, response_class=Response, openapi_extra=scopes_doc("evaluation:write"))
async def delete_provider_key(id: str, session: SessionDep, principal: Access) -> Response:
    """Delete a provider key; evaluations that used it keep their model without a key."""
    await service.delete_provider_key(
        session=session, environment_id=principal.environment_id, key_id=parse_object_id(id)
    )
    return Response(status_code=204)
