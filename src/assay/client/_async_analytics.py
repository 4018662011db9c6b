"""LLM-analytics resources (`/api/environments/{environment_id}/…`): datasets, items, evaluations, events, keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from assay.client._arguments import DEFAULT_PAGE_SIZE, EvaluationType, Provider, event_body, event_query
from assay.client._base import ID, NOT_GIVEN, NotGiven, body, csv, query
from assay.client._models import (
    Dataset,
    DatasetItem,
    Evaluation,
    EvaluationRun,
    EvaluationRunStarted,
    Event,
    IngestResult,
    Page,
    ProviderKey,
    TestHogResponse,
)

if TYPE_CHECKING:
    from assay.client._async_client import AsyncClient


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._c = client

    def _path(self, name: str, id: ID | None = None) -> str:
        base = f"{self._c.env_path}/{name}"
        return base if id is None else f"{base}/{id}"


class Datasets(_Resource):
    """`client.datasets`: datasets of the client's environment (soft delete only)."""

    async def list(
        self,
        *,
        search: str | None = None,
        ids: Sequence[ID] | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Dataset]:
        """One page, newest first. `order_by`: `created_at`, `-created_at`, `updated_at`, `-updated_at`."""
        params = query(search=search, id__in=csv(ids), order_by=order_by, limit=limit, offset=offset)
        return await self._c._page(self._path("datasets"), Dataset, params)

    def iter(
        self,
        *,
        search: str | None = None,
        ids: Sequence[ID] | None = None,
        order_by: Sequence[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Dataset]:
        """Every matching dataset, following `next` page by page."""
        params = query(search=search, id__in=csv(ids), order_by=order_by, limit=page_size)
        return self._c._iter(self._path("datasets"), Dataset, params)

    async def create(self, name: str, *, description: str | None = None, metadata: Any = None) -> Dataset:
        """Create a dataset."""
        return await self._c._post(
            self._path("datasets"), Dataset, body(name=name, description=description, metadata=metadata)
        )

    async def get(self, id: ID) -> Dataset:
        """One dataset (a soft-deleted one raises `NotFoundError`)."""
        return await self._c._get(self._path("datasets", id), Dataset)

    async def update(
        self,
        id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | None | NotGiven = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        deleted: bool | NotGiven = NOT_GIVEN,
    ) -> Dataset:
        """Change the given fields (`deleted=False` restores a soft-deleted dataset)."""
        fields = body(name=name, description=description, metadata=metadata, deleted=deleted)
        return await self._c._patch(self._path("datasets", id), Dataset, fields)

    async def delete(self, id: ID) -> Dataset:
        """Soft-delete (the API has no hard delete): sets `deleted` to true."""
        return await self.update(id, deleted=True)


class DatasetItems(_Resource):
    """`client.dataset_items`: items of the environment's datasets (soft delete only)."""

    async def list(
        self, *, dataset: ID | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[DatasetItem]:
        """One page, newest first, optionally of one dataset."""
        params = query(dataset=dataset, limit=limit, offset=offset)
        return await self._c._page(self._path("dataset_items"), DatasetItem, params)

    def iter(self, *, dataset: ID | None = None, page_size: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[DatasetItem]:
        """Every item (of one dataset), following `next` page by page."""
        return self._c._iter(self._path("dataset_items"), DatasetItem, query(dataset=dataset, limit=page_size))

    async def create(
        self,
        dataset: ID,
        *,
        input: Any = None,
        output: Any = None,
        metadata: Any = None,
        ref_trace_id: str | None = None,
        ref_timestamp: str | None = None,
        ref_source_id: str | None = None,
    ) -> DatasetItem:
        """Add an item to `dataset`."""
        fields = body(
            dataset=str(dataset),
            input=input,
            output=output,
            metadata=metadata,
            ref_trace_id=ref_trace_id,
            ref_timestamp=ref_timestamp,
            ref_source_id=ref_source_id,
        )
        return await self._c._post(self._path("dataset_items"), DatasetItem, fields)

    async def get(self, id: ID) -> DatasetItem:
        """One item (a soft-deleted one raises `NotFoundError`)."""
        return await self._c._get(self._path("dataset_items", id), DatasetItem)

    async def update(
        self,
        id: ID,
        *,
        dataset: ID | NotGiven = NOT_GIVEN,
        input: Any = NOT_GIVEN,
        output: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        ref_trace_id: str | None | NotGiven = NOT_GIVEN,
        ref_timestamp: str | None | NotGiven = NOT_GIVEN,
        ref_source_id: str | None | NotGiven = NOT_GIVEN,
        deleted: bool | NotGiven = NOT_GIVEN,
    ) -> DatasetItem:
        """Change the given fields."""
        fields = body(
            dataset=dataset,
            input=input,
            output=output,
            metadata=metadata,
            ref_trace_id=ref_trace_id,
            ref_timestamp=ref_timestamp,
            ref_source_id=ref_source_id,
            deleted=deleted,
        )
        return await self._c._patch(self._path("dataset_items", id), DatasetItem, fields)

    async def delete(self, id: ID) -> DatasetItem:
        """Soft-delete: sets `deleted` to true."""
        return await self.update(id, deleted=True)


class Evaluations(_Resource):
    """`client.evaluations`: evaluator definitions (`llm_judge` or `hog`) run online on `$ai_generation` events."""

    async def list(
        self,
        *,
        enabled: bool | None = None,
        search: str | None = None,
        ids: Sequence[ID] | None = None,
        order_by: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Evaluation]:
        """One page of evaluations."""
        params = query(enabled=enabled, search=search, id__in=csv(ids), order_by=order_by, limit=limit, offset=offset)
        return await self._c._page(self._path("evaluations"), Evaluation, params)

    def iter(
        self,
        *,
        enabled: bool | None = None,
        search: str | None = None,
        ids: Sequence[ID] | None = None,
        order_by: Sequence[str] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Evaluation]:
        """Every matching evaluation, following `next` page by page."""
        params = query(enabled=enabled, search=search, id__in=csv(ids), order_by=order_by, limit=page_size)
        return self._c._iter(self._path("evaluations"), Evaluation, params)

    async def create(
        self,
        name: str,
        evaluation_type: EvaluationType,
        evaluation_config: Mapping[str, Any],
        *,
        output_type: str = "boolean",
        output_config: Mapping[str, Any] | None = None,
        conditions: Sequence[Mapping[str, Any]] | None = None,
        model_configuration: Mapping[str, Any] | None = None,
        description: str = "",
        enabled: bool = False,
    ) -> Evaluation:
        """Create an evaluation: `evaluation_config` is `{"prompt": …}` (llm_judge) or `{"source": …}` (hog)."""
        fields = body(
            name=name,
            evaluation_type=evaluation_type,
            evaluation_config=dict(evaluation_config),
            output_type=output_type,
            output_config=dict(output_config or {}),
            conditions=list(conditions or []),
            model_configuration=model_configuration,
            description=description,
            enabled=enabled,
        )
        return await self._c._post(self._path("evaluations"), Evaluation, fields)

    async def get(self, id: ID) -> Evaluation:
        """One evaluation."""
        return await self._c._get(self._path("evaluations", id), Evaluation)

    async def update(
        self,
        id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        description: str | NotGiven = NOT_GIVEN,
        enabled: bool | NotGiven = NOT_GIVEN,
        evaluation_type: EvaluationType | NotGiven = NOT_GIVEN,
        evaluation_config: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        output_type: str | NotGiven = NOT_GIVEN,
        output_config: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        conditions: Sequence[Mapping[str, Any]] | NotGiven = NOT_GIVEN,
        model_configuration: Mapping[str, Any] | None | NotGiven = NOT_GIVEN,
        deleted: bool | NotGiven = NOT_GIVEN,
    ) -> Evaluation:
        """Change the given fields."""
        fields = body(
            name=name,
            description=description,
            enabled=enabled,
            evaluation_type=evaluation_type,
            evaluation_config=evaluation_config,
            output_type=output_type,
            output_config=output_config,
            conditions=conditions,
            model_configuration=model_configuration,
            deleted=deleted,
        )
        return await self._c._patch(self._path("evaluations", id), Evaluation, fields)

    async def delete(self, id: ID) -> Evaluation:
        """Soft-delete: sets `deleted` to true."""
        return await self.update(id, deleted=True)

    async def test_hog(
        self,
        source: str,
        *,
        sample_count: int = 5,
        allows_na: bool = False,
        conditions: Sequence[Mapping[str, Any]] | None = None,
    ) -> TestHogResponse:
        """Run Hog code on recent `$ai_generation` events without saving anything."""
        fields = body(source=source, sample_count=sample_count, allows_na=allows_na, conditions=list(conditions or []))
        return await self._c._post(self._path("evaluations") + "/test_hog", TestHogResponse, fields)


class Events(_Resource):
    """`client.events`: ingest events with the API key, list and read them back."""

    async def capture(
        self,
        event: str,
        distinct_id: str,
        *,
        properties: Mapping[str, Any] | None = None,
        uuid: ID | None = None,
        timestamp: datetime | str | None = None,
    ) -> IngestResult:
        """Ingest one event (e.g. `$ai_generation`). Duplicates of a known `uuid` are counted, not stored."""
        return await self._c._post(
            self._path("events"), IngestResult, event_body(event, distinct_id, properties, uuid, timestamp)
        )

    async def capture_batch(self, events: Sequence[Mapping[str, Any]]) -> IngestResult:
        """Ingest several events (each `{event, distinct_id, properties?, uuid?, timestamp?}`)."""
        batch = [
            event_body(e["event"], e["distinct_id"], e.get("properties"), e.get("uuid"), e.get("timestamp"))
            for e in events
        ]
        return await self._c._post(self._path("events"), IngestResult, {"batch": batch})

    async def list(
        self,
        *,
        event: str | None = None,
        after: datetime | str | None = None,
        before: datetime | str | None = None,
        trace_id: str | None = None,
        distinct_id: str | None = None,
        properties: Sequence[Mapping[str, Any]] | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> Page[Event]:
        """One page, newest first; `properties` are PostHog property filters (ANDed)."""
        params = event_query(event, after, before, trace_id, distinct_id, properties) + query(
            limit=limit, offset=offset
        )
        return await self._c._page(self._path("events"), Event, params)

    def iter(
        self,
        *,
        event: str | None = None,
        after: datetime | str | None = None,
        before: datetime | str | None = None,
        trace_id: str | None = None,
        distinct_id: str | None = None,
        properties: Sequence[Mapping[str, Any]] | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[Event]:
        """Every matching event, following `next` page by page."""
        params = event_query(event, after, before, trace_id, distinct_id, properties) + query(limit=page_size)
        return self._c._iter(self._path("events"), Event, params)

    async def get(self, uuid: ID) -> Event:
        """One event by its uuid."""
        return await self._c._get(self._path("events", uuid), Event)


class EvaluationRuns(_Resource):
    """`client.evaluation_runs`: run one evaluation on one stored event by hand."""

    async def create(
        self,
        evaluation_id: ID,
        target_event_id: ID,
        timestamp: datetime | str,
        *,
        event: str = "$ai_generation",
        distinct_id: str | None = None,
    ) -> EvaluationRunStarted:
        """Queue the run (`timestamp`: any time on the event's UTC date); the result is a `$ai_evaluation` event."""
        fields = body(
            evaluation_id=evaluation_id,
            target_event_id=target_event_id,
            timestamp=timestamp,
            event=event,
            distinct_id=distinct_id,
        )
        return await self._c._post(self._path("evaluation_runs"), EvaluationRunStarted, fields)

    async def get(self, workflow_id: str) -> EvaluationRun:
        """The run's state and, once it ended, its result."""
        return await self._c._get(self._path("evaluation_runs", workflow_id), EvaluationRun)


class ProviderKeys(_Resource):
    """`client.provider_keys`: LLM provider keys used by judges (stored encrypted; hard delete)."""

    async def list(
        self, *, provider: Provider | None = None, limit: int | None = None, offset: int | None = None
    ) -> Page[ProviderKey]:
        """One page of keys."""
        params = query(provider=provider, limit=limit, offset=offset)
        return await self._c._page(self._path("llm_provider_keys"), ProviderKey, params)

    def iter(
        self, *, provider: Provider | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[ProviderKey]:
        """Every key, following `next` page by page."""
        return self._c._iter(self._path("llm_provider_keys"), ProviderKey, query(provider=provider, limit=page_size))

    async def create(
        self,
        provider: Provider,
        name: str,
        api_key: str,
        *,
        base_url: str | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
    ) -> ProviderKey:
        """Store a key (only its mask is ever returned)."""
        fields = body(
            provider=provider,
            name=name,
            api_key=api_key,
            base_url=base_url,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
        )
        return await self._c._post(self._path("llm_provider_keys"), ProviderKey, fields)

    async def get(self, id: ID) -> ProviderKey:
        """One key."""
        return await self._c._get(self._path("llm_provider_keys", id), ProviderKey)

    async def update(
        self,
        id: ID,
        *,
        name: str | NotGiven = NOT_GIVEN,
        api_key: str | NotGiven = NOT_GIVEN,
        provider: Provider | NotGiven = NOT_GIVEN,
        base_url: str | None | NotGiven = NOT_GIVEN,
        requests_per_minute: int | None | NotGiven = NOT_GIVEN,
        tokens_per_minute: int | None | NotGiven = NOT_GIVEN,
    ) -> ProviderKey:
        """Change the given fields."""
        fields = body(
            name=name,
            api_key=api_key,
            provider=provider,
            base_url=base_url,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
        )
        return await self._c._patch(self._path("llm_provider_keys", id), ProviderKey, fields)

    async def delete(self, id: ID) -> None:
        """Delete the key."""
        await self._c._delete(self._path("llm_provider_keys", id))
