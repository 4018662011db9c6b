"""Following `{count, next, previous, results}` lists page by page.

`next` is an absolute URL built by the server from the address it saw; behind a proxy that address may not
be the client's. So only its query (`limit`, `offset` and the filters) is taken, and the next page is asked
for on the same path through the client's own base URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import httpx

from assay.client._models import Page

T = TypeVar("T")
Params = list[tuple[str, str | int | float | bool | None]]
"""Query parameters as name-value pairs (the shape httpx takes; a name may repeat)."""


def next_params(page: Page[T]) -> Params | None:
    """The query of the page after `page`, or None when it is the last one."""
    if not page.next or not page.results:
        return None
    return list(httpx.URL(page.next).params.multi_items())


def iterate(fetch: Callable[[Params], Page[T]], params: Params) -> Iterator[T]:
    """Every item, fetching pages lazily."""
    page = fetch(params)
    while True:
        yield from page.results
        following = next_params(page)
        if following is None:
            return
        page = fetch(following)


async def aiterate(fetch: Callable[[Params], Awaitable[Page[T]]], params: Params) -> AsyncIterator[T]:
    """Every item, fetching pages lazily (async)."""
    page = await fetch(params)
    while True:
        for item in page.results:
            yield item
        following = next_params(page)
        if following is None:
            return
        page = await fetch(following)
