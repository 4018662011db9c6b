"""`AsyncClient`: one object per server and key, with a resource per API collection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx

from assay.client import _async_agents, _async_analytics
from assay.client._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ID, BaseClient, M
from assay.client._errors import error_from_response
from assay.client._models import Page, Task
from assay.client._pagination import Params, aiterate
from assay.client._polling import AsyncProgressCallback

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient):
    """An asyncio client of an Assay server.

    Args:
        base_url: The server, e.g. `http://127.0.0.1:8000`.
        api_key: A personal API key, sent as `Authorization: Bearer <key>`.
        environment_id: The environment of the LLM-analytics routes; default `@current` (the key's own).
        timeout: Seconds (or an `httpx.Timeout`) for each attempt.
        max_retries: Retries after the first attempt: 429 (honouring `Retry-After`) for every method; 5xx and
            connection errors for GET, PUT and DELETE; for POST and PATCH only errors raised before the
            request was sent.
        transport: An `httpx.AsyncBaseTransport` (e.g. `httpx.MockTransport` in tests).
        headers: Extra headers sent with every request.

    Example:
        async with assay.AsyncClient("http://127.0.0.1:8000", "phx_…") as client:
            suite = await client.suites.create("refunds", instance_id=instance.id)
            await client.test_cases.add(suite.id, "I want my money back")
            task = await client.run(suite.id, on_progress=lambda t: print(t.progress))
            for result in await client.results.list(suite.id, task.task_id):
                print(result.score, result.score_reason)
            async for dataset in client.datasets.iter():
                print(dataset.name)
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        environment_id: ID | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(base_url, api_key, environment_id=environment_id, timeout=timeout, max_retries=max_retries)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={**self._headers, **(headers or {})},
            timeout=self.timeout,
            transport=transport,
        )
        self.datasets = _async_analytics.Datasets(self)
        self.dataset_items = _async_analytics.DatasetItems(self)
        self.evaluations = _async_analytics.Evaluations(self)
        self.events = _async_analytics.Events(self)
        self.evaluation_runs = _async_analytics.EvaluationRuns(self)
        self.provider_keys = _async_analytics.ProviderKeys(self)
        self.suites = _async_agents.Suites(self)
        self.test_cases = _async_agents.TestCases(self)
        self.instances = _async_agents.Instances(self)
        self.recipes = _async_agents.Recipes(self)
        self.runs = _async_agents.Runs(self)
        self.tasks = _async_agents.Tasks(self)
        self.results = _async_agents.Results(self)

    async def run(
        self,
        suite_id: ID,
        *,
        wait: bool = True,
        poll_interval: float = 0.5,
        timeout: float | None = None,
        on_progress: AsyncProgressCallback | None = None,
    ) -> Task:
        """Start a run of the suite and, with `wait`, poll its task until it ends.

        Args:
            suite_id: The suite (`/v1/evaluations/{id}`).
            wait: Poll until the task is completed, failed or cancelled; else return the queued task.
            poll_interval: Seconds between polls.
            timeout: Give up waiting after this many seconds (`RunTimeoutError`; the run goes on).
            on_progress: Called with the task on each change of status or progress.

        Returns:
            The task, ended when `wait`.
        """
        task = await self.runs.start(suite_id)
        if not wait:
            return task
        return await self.tasks.wait(
            task.task_id, poll_interval=poll_interval, timeout=timeout, on_progress=on_progress
        )

    async def health(self) -> dict[str, Any]:
        """`GET /healthz`."""
        response = await self._send("GET", "/healthz")
        result: dict[str, Any] = response.json()
        return result

    # plumbing -------------------------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _send(self, method: str, path: str, *, params: Params | None = None, json: Any = None) -> httpx.Response:
        attempt = 0
        while True:
            request = self._http.build_request(method, path, params=params, json=json)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                if attempt < self.max_retries and self._retry_exception(method, exc):
                    await self._sleep(self._delay(attempt, None) or 0.0)
                    attempt += 1
                    continue
                raise self._connection_error(exc, request) from exc
            if response.is_success:
                return response
            if attempt < self.max_retries and self._retry_status(method, response.status_code):
                delay = self._delay(attempt, response)
                if delay is not None:
                    await response.aclose()
                    await self._sleep(delay)
                    attempt += 1
                    continue
            raise error_from_response(response)

    async def _get(self, path: str, model: type[M], params: Params | None = None) -> M:
        return self._parse(await self._send("GET", path, params=params), model)

    async def _get_list(self, path: str, model: type[M], params: Params | None = None) -> list[M]:
        return self._parse_list(await self._send("GET", path, params=params), model)

    async def _page(self, path: str, model: type[M], params: Params) -> Page[M]:
        return self._parse_page(await self._send("GET", path, params=params), model)

    def _iter(self, path: str, model: type[M], params: Params) -> AsyncIterator[M]:
        return aiterate(lambda p: self._page(path, model, p), params)

    async def _post(self, path: str, model: type[M], json: Any) -> M:
        return self._parse(await self._send("POST", path, json=json), model)

    async def _patch(self, path: str, model: type[M], json: Any) -> M:
        return self._parse(await self._send("PATCH", path, json=json), model)

    async def _delete(self, path: str) -> None:
        await self._send("DELETE", path)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
