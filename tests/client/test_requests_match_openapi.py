"""Every request the SDK can send is one the server's `/openapi.json` declares: the method on a known path, query
parameters it reads, body fields it takes, and the body fields it requires.

Each public method of each resource (and `Client.run`, `Client.health`) is called with every argument given, and
its first request is caught by the transport. The sync client is checked; the async one is its source
(`test_generated_sync.py` keeps the two the same).
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import NoneType, UnionType
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import assay
from assay.api.app import create_app
from assay.client._base import NotGiven
from assay.settings import Settings

Schema = dict[str, Any]
ANY_ID = "00000000-0000-4000-8000-000000000001"
UNDECLARED_BODIES = {"events.capture", "events.capture_batch"}
"""Methods whose body OpenAPI does not describe: the events route decodes its body itself (batches, gzip)."""


class RequestCaught(Exception):
    """Raised by the transport with the request the SDK was about to send."""

    def __init__(self, request: httpx.Request) -> None:
        self.request = request


def catch(request: httpx.Request) -> httpx.Response:
    raise RequestCaught(request)


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    database = Path(tmp_path_factory.mktemp("openapi")) / "assay.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    document: Schema = create_app(settings).openapi()
    return document


def sample(annotation: Any) -> Any:
    """A value of the annotated type (of a union, the first member other than None and `NotGiven`)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, UnionType):
        return sample(next(a for a in args if a not in (NoneType, NotGiven)))
    if origin is typing.Literal:
        return args[0]
    if origin in (Sequence, list):
        item = args[0] if args else str
        # a list of objects is sent empty: its items (events, recipe items) are free-form or checked elsewhere
        return [] if typing.get_origin(item) in (Mapping, dict) or item is dict else [sample(item)]
    if origin in (Mapping, dict):
        return {"key": "value"}
    if origin is Callable:
        return lambda *_: None
    samples: dict[Any, Any] = {str: ANY_ID, Any: ANY_ID, bool: True, int: 1, float: 1.0}
    if annotation in samples:
        return samples[annotation]
    if annotation is datetime:
        return datetime(2025, 1, 1, 12, tzinfo=UTC)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_construct()
    raise AssertionError(f"no sample for {annotation!r}")


def call_with_every_argument(method: Callable[..., Any]) -> httpx.Request:
    """The first request `method` sends when every parameter is given."""
    hints = typing.get_type_hints(method)
    arguments = {name: sample(hints[name]) for name in inspect.signature(method).parameters}
    with pytest.raises(RequestCaught) as sent:
        result = method(**arguments)
        if isinstance(result, Iterator):
            next(result)
    return sent.value.request


def sdk_methods() -> list[tuple[str, Callable[..., Any]]]:
    """Every public method of a client whose transport catches the first request, by dotted name."""
    client = assay.Client("http://assay.test/prefix", "k", transport=httpx.MockTransport(catch), max_retries=0)
    methods: list[tuple[str, Callable[..., Any]]] = [("run", client.run), ("health", client.health)]
    for resource_name, resource in vars(client).items():
        if resource_name.startswith("_") or not hasattr(resource, "_c"):
            continue
        for name, member in vars(type(resource)).items():
            if callable(member) and not name.startswith("_"):
                methods.append((f"{resource_name}.{name}", getattr(resource, name)))
    return methods


SDK_METHODS = sdk_methods()


def operation_of(spec: Schema, method: str, path: str) -> Schema | None:
    """The operation of the path template matching `path` that has `method`, if any."""
    for template, operations in spec["paths"].items():
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]+\}", template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            operation: Schema = operations[method.lower()]
            return operation
    return None


def body_schema(spec: Schema, operation: Schema) -> Schema | None:
    """The JSON request body schema of an operation, its `$ref` resolved."""
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_resource_method_is_checked() -> None:
    names = {name for name, _ in SDK_METHODS}
    assert {"suites.create", "tasks.wait", "events.iter", "provider_keys.update", "run"} <= names
    assert len(names) >= 50


@pytest.mark.parametrize(("name", "method"), SDK_METHODS, ids=[name for name, _ in SDK_METHODS])
def test_request_is_declared_by_the_server(name: str, method: Callable[..., Any], spec: Schema) -> None:
    request = call_with_every_argument(method)
    path = request.url.path.removeprefix("/prefix")
    operation = operation_of(spec, request.method, path)
    assert operation is not None, f"{name}: the server declares no {request.method} {path}"

    declared_query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    sent_query = set(request.url.params.keys())
    assert sent_query <= declared_query, f"{name}: query parameters the server does not read"

    schema = body_schema(spec, operation)
    if not request.content:
        return
    if schema is None or "properties" not in schema:
        assert name in UNDECLARED_BODIES, f"{name}: sends a body the server's schema does not describe"
        return
    sent_fields = set(httpx.Response(200, content=request.content).json())
    assert sent_fields <= set(schema["properties"]), f"{name}: body fields the server does not take"
    assert set(schema.get("required", [])) <= sent_fields, f"{name}: body fields the server requires"
