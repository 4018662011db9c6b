"""Keyset pagination on the wire: an opaque `cursor` parameter and the `{next, results}` envelope.

For tables that grow with every ingested event, where counting and offsets cost more with every page. The
cursor is the position of a page's last row (URL-safe base64 of a JSON list); `next` is an absolute URL that
keeps the request's other parameters, as the limit/offset envelope's links do.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel

from assay.api.routing import client_url
from assay.errors import ValidationFailed

T = TypeVar("T")

MAX_CURSOR_LENGTH = 1000


class CursorPage(BaseModel, Generic[T]):
    """One page; `next` is null on the last one."""

    next: str | None
    results: list[T]


def encode_cursor(position: list[Any]) -> str:
    """The opaque cursor for a row position."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(raw: str, *, size: int) -> list[Any]:
    """The position a cursor names; a cursor this API did not make is a 400 on `cursor`."""
    try:
        if len(raw) > MAX_CURSOR_LENGTH:
            raise ValueError
        value = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationFailed("Invalid cursor.", attr="cursor") from None
    if not isinstance(value, list) or len(value) != size:
        raise ValidationFailed("Invalid cursor.", attr="cursor")
    return value


def next_link(request: Request, position: list[Any] | None) -> str | None:
    """The URL of the page after `position`, or None."""
    if position is None:
        return None
    return str(client_url(request).include_query_params(cursor=encode_cursor(position)))
