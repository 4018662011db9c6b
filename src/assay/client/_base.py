"""What the sync and async clients share: configuration, request building, retry decisions, parsing."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter

from assay.client._errors import APIConnectionError, APITimeoutError, parse_retry_after
from assay.client._models import Page
from assay.client._pagination import Params

M = TypeVar("M", bound=BaseModel)
ID = str | UUID

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0
"""A longer `Retry-After` is not waited for: the `RateLimitError` is raised."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Errors raised before the request left the client: safe to retry for any method."""


class NotGiven:
    """The default of optional `update` arguments: the field is left out (unlike None, which sends null)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def body(**fields: Any) -> dict[str, Any]:
    """A JSON body of the given fields (`NOT_GIVEN` ones left out)."""
    return {k: _jsonable(v) for k, v in fields.items() if v is not NOT_GIVEN}


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def query(**params: Any) -> Params:
    """Query parameters without the None ones; lists repeat the name, booleans are `true`/`false`."""
    out: Params = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((name, str(v)) for v in value)
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        elif isinstance(value, datetime):
            out.append((name, value.isoformat()))
        else:
            out.append((name, str(value)))
    return out


def csv(values: Iterable[ID] | None) -> str | None:
    return ",".join(str(v) for v in values) if values is not None else None


class BaseClient:
    """Configuration and policy shared by `Client` and `AsyncClient`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        environment_id: ID | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        from assay import __version__

        self.base_url = str(base_url).rstrip("/")
        self.environment_id = str(environment_id) if environment_id else "@current"
        self.max_retries = max_retries
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._api_key = api_key
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": f"assay-python/{__version__}",
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, environment_id={self.environment_id!r})"

    @property
    def env_path(self) -> str:
        """The prefix of the LLM-analytics routes of the client's environment."""
        return f"/api/environments/{self.environment_id}"

    # retry policy ---------------------------------------------------------------------------------------

    def _retry_status(self, method: str, status: int) -> bool:
        return status == 429 or (status >= 500 and method in IDEMPOTENT_METHODS)

    def _retry_exception(self, method: str, exc: httpx.TransportError) -> bool:
        return isinstance(exc, _NOT_SENT) or method in IDEMPOTENT_METHODS

    def _delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds before retry number `attempt + 1`, or None not to retry (Retry-After too long)."""
        if response is not None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                return retry_after if retry_after <= MAX_RETRY_AFTER else None
        backoff = min(INITIAL_BACKOFF * 2.0**attempt, MAX_BACKOFF)
        return backoff * (1 - 0.25 * random.random())

    @staticmethod
    def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        return cls(
            f"{type(exc).__name__}: {exc or 'connection failed'} ({request.method} {request.url})", request=request
        )

    # parsing --------------------------------------------------------------------------------------------

    @staticmethod
    def _parse(response: httpx.Response, model: type[M]) -> M:
        return model.model_validate(response.json())

    @staticmethod
    def _parse_list(response: httpx.Response, model: type[M]) -> list[M]:
        return TypeAdapter(list[model]).validate_python(response.json())  # type: ignore[valid-type]

    @staticmethod
    def _parse_page(response: httpx.Response, model: type[M]) -> Page[M]:
        return Page[model].model_validate(response.json())  # type: ignore[valid-type]
