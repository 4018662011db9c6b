"""Limit/offset pagination with the `{count, next, previous, results}` envelope."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel

from assay.api.routing import client_url

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_OFFSET = 2**62  # stays inside a 64-bit database integer


class Page(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="Number of results to return per page.")] = None,
    offset: Annotated[
        int | None, Query(ge=0, le=MAX_OFFSET, description="The initial index from which to return the results.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit or DEFAULT_LIMIT, offset=offset or 0)


def make_page(request: Request, params: PageParams, count: int, results: list[Any]) -> dict[str, Any]:
    """The envelope with absolute `next`/`previous` links, as Django REST framework builds them.

    The links keep the path in the form the client sent it (with or without the trailing slash).
    """
    url = client_url(request)
    next_url = None
    if params.offset + params.limit < count:
        next_url = str(url.include_query_params(limit=params.limit, offset=params.offset + params.limit))
    previous_url = None
    if params.offset > 0:
        if params.offset - params.limit <= 0:
            previous_url = str(url.include_query_params(limit=params.limit).remove_query_params("offset"))
        else:
            previous_url = str(url.include_query_params(limit=params.limit, offset=params.offset - params.limit))
    return {"count": count, "next": next_url, "previous": previous_url, "results": results}
