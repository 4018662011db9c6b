"""Pieces shared by the LLM-analytics routers: ids, `created_by`, list filters, error responses."""

from __future__ import annotations

import types
import typing
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from assay.api.errors import DrfError
from assay.api.safe_json import check_storable
from assay.errors import ResourceNotFound, ValidationFailed
from assay.storage.tables import ApiKeyRow


class UserBasic(BaseModel):
    """`created_by`: the API key that created the object, in the original product's user shape."""

    id: str
    uuid: str
    distinct_id: str
    first_name: str
    last_name: str = ""
    email: str = ""
    is_email_verified: bool = False
    hedgehog_config: dict[str, Any] | None = None
    role_at_organization: str | None = None


def user_basic(key: ApiKeyRow | None) -> UserBasic | None:
    if key is None:
        return None
    return UserBasic(
        id=str(key.id), uuid=str(key.id), distinct_id=f"api_key:{key.prefix}", first_name=key.name or key.prefix
    )


def _is_bool(annotation: Any) -> bool:
    """`bool` or `bool | None`."""
    if annotation is bool:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = set(typing.get_args(annotation))
        return bool in args and args <= {bool, type(None)}
    return False


class WriteModel(BaseModel):
    """Request bodies: unknown fields (such as `team` or `created_by`) are ignored, as the original does.

    Boolean fields take JSON booleans only: `0.0`, `1` or `"yes"` are refused, as the document's type says.
    """

    model_config = ConfigDict(extra="ignore")

    _storable = field_validator("*", mode="before")(check_storable)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_bool(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if value is not None and not isinstance(value, bool) and field is not None and _is_bool(field.annotation):
            raise PydanticCustomError("invalid", "Must be a valid boolean.")
        return value


def not_blank(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise PydanticCustomError("blank", "This field may not be blank.")
    return value


def written_fields(body: BaseModel) -> dict[str, Any]:
    """The fields the client sent, with `metadata` renamed to its column attribute."""
    data = {name: getattr(body, name) for name in body.model_fields_set if name in type(body).model_fields}
    if "metadata" in data:
        data["metadata_"] = data.pop("metadata")
    return data


def not_null_or_blank(value: str | None) -> str | None:
    """For optional PATCH fields whose column is not nullable: an explicit null is refused."""
    if value is None:
        raise PydanticCustomError("null", "This field may not be null.")
    return not_blank(value)


def parse_object_id(value: str) -> uuid.UUID:
    """A path id; anything that is not a UUID cannot name an object, so it is 404."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ResourceNotFound("Not found.") from None


def parse_id_list(raw: list[str] | None, attr: str = "id__in") -> list[uuid.UUID] | None:
    """`id__in` as comma-separated UUIDs (the parameter may also repeat)."""
    if not raw:
        return None
    ids: list[uuid.UUID] = []
    for chunk in raw:
        for part in chunk.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                raise ValidationFailed("Enter a valid UUID.", attr=attr, code="invalid") from None
    return ids


def parse_ordering(raw: list[str] | None, allowed: set[str]) -> list[str] | None:
    if not raw:
        return None
    fields = [p.strip() for chunk in raw for p in chunk.split(",") if p.strip()]
    for field in fields:
        if field not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ValidationFailed(
                f"Select a valid choice. {field} is not one of the available choices: {choices}.",
                attr="order_by",
                code="invalid_choice",
            )
    return fields


def parse_bool_param(raw: str | None, attr: str) -> bool | None:
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValidationFailed("Enter a valid boolean: true or false.", attr=attr, code="invalid")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": DrfError, "description": "Invalid input; `attr` names the field."},
    401: {"model": DrfError, "description": "Missing or invalid API key."},
    403: {"model": DrfError, "description": "The key lacks the scope, or belongs to another environment."},
    404: {"model": DrfError, "description": "No such object in this environment."},
}


def scopes_doc(*scopes: str) -> dict[str, Any]:
    return {"x-required-scopes": list(scopes)}
