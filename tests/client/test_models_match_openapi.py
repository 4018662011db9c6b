"""The SDK's answer models agree with the server's `/openapi.json`: renaming, dropping or retyping a response
field on the server, or declaring one in the SDK that the server does not send, fails here.

For each SDK model, every field it declares must be in the server's schema, required there when the SDK
requires it, and of a type the SDK accepts (every JSON type the server may send, null included, must parse).
Fields only the server has are fine: the models keep unknown fields (`extra="allow"`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from assay.api.app import create_app
from assay.client import _models
from assay.client._models import (
    AssayModel,
    Dataset,
    DatasetItem,
    Evaluation,
    EvaluationRef,
    EvaluationRun,
    EvaluationRunStarted,
    Event,
    EventWarnings,
    IngestResult,
    Instance,
    ModelConfiguration,
    Page,
    ProviderKey,
    Recipe,
    RecipeItem,
    RejectedEvent,
    Result,
    RunStarted,
    ScoreOverrideEntry,
    Suite,
    Task,
    TaskProgress,
    TestCase,
    TestHogResponse,
    TestHogResult,
    UserBasic,
)
from assay.settings import Settings

Schema = dict[str, Any]

SERVER_SCHEMA_OF: dict[type[BaseModel], str] = {
    # LLM analytics (`/api/environments/{environment_id}/…`)
    UserBasic: "UserBasic",
    Dataset: "DatasetPublic",
    Page[Dataset]: "Page_DatasetPublic_",
    DatasetItem: "DatasetItemPublic",
    Page[DatasetItem]: "Page_DatasetItemPublic_",
    ModelConfiguration: "ModelConfigurationPublic",
    Evaluation: "EvaluationPublic",
    Page[Evaluation]: "Page_EvaluationPublic_",
    TestHogResult: "TestHogResult",
    TestHogResponse: "TestHogResponse",
    EvaluationRef: "EvaluationRef",
    EvaluationRunStarted: "EvaluationRunStarted",
    EvaluationRun: "EvaluationRunPublic",
    Event: "EventPublic",
    Page[Event]: "Page_EventPublic_",
    RejectedEvent: "RejectedEvent",
    EventWarnings: "EventWarnings",
    IngestResult: "IngestResult",
    ProviderKey: "ProviderKeyPublic",
    Page[ProviderKey]: "Page_ProviderKeyPublic_",
    # agent evaluations (`/v1/…`)
    Suite: "EvaluationResponse",
    TestCase: "TestCaseResponse",
    Instance: "InstanceResponse",
    RecipeItem: "RecipeItemResponse",
    Recipe: "RecipeResponse",
    RunStarted: "RunResponse",
    TaskProgress: "TaskProgress",
    Task: "TaskResponse",
    ScoreOverrideEntry: "Override",
    Result: "ResultResponse",
}
"""Each SDK model and the server's response schema (in `components.schemas`) it mirrors."""

NOT_MIRRORED: set[type[BaseModel]] = {AssayModel, Page}
"""Models of `_models` that mirror no one schema: the base class, and `Page` unparametrised."""


@pytest.fixture(scope="module")
def server_schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Schema]:
    database = Path(tmp_path_factory.mktemp("openapi")) / "assay.db"
    settings = Settings(database_url=f"sqlite+aiosqlite:///{database}", _env_file=None)  # type: ignore[call-arg]
    schemas: dict[str, Schema] = create_app(settings).openapi()["components"]["schemas"]
    return schemas


def test_every_sdk_model_is_mapped() -> None:
    models = {
        obj
        for obj in vars(_models).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == _models.__name__
    }
    assert models - NOT_MIRRORED - set(SERVER_SCHEMA_OF) == set()


class SchemaSide:
    """One side of the comparison: a JSON schema document and where its `$ref`s point."""

    def __init__(self, definitions: dict[str, Schema]) -> None:
        self.definitions = definitions

    def resolve(self, schema: Schema) -> tuple[Schema, str | None]:
        """The schema a `$ref` points to (and its name), or the schema itself."""
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self.definitions[name], name
        return schema, None

    def branches(self, schema: Schema) -> list[tuple[Schema, str | None]]:
        """The alternatives of a schema (`anyOf`, `oneOf`, a list of types), each resolved."""
        resolved, name = self.resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in resolved:
                return [b for alternative in resolved[key] for b in self.branches(alternative)]
        kind = resolved.get("type")
        if isinstance(kind, list):
            return [({**resolved, "type": k}, name) for k in kind]
        return [(resolved, name)]


JSON_TYPE_OF = {str: "string", bool: "boolean", int: "integer", float: "number"}


def json_type(schema: Schema) -> str | None:
    """The JSON type a resolved branch allows, or None for any value."""
    if "type" in schema:
        return str(schema["type"])
    if "properties" in schema:
        return "object"
    if "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        kinds = {JSON_TYPE_OF.get(type(v)) for v in values}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def incompatibility(sdk: SchemaSide, sdk_schema: Schema, server: SchemaSide, server_schema: Schema) -> str | None:
    """Why a value the server's schema allows may fail the SDK's, or None when the SDK accepts them all."""
    sdk_branches = sdk.branches(sdk_schema)
    if any(json_type(b) is None for b, _ in sdk_branches):
        return None
    for server_branch, server_name in server.branches(server_schema):
        server_type = json_type(server_branch)
        if server_type is None:
            return "the server may send any value"
        reasons = []
        for sdk_branch, sdk_name in sdk_branches:
            reason = branch_incompatibility(sdk, sdk_branch, sdk_name, server, server_branch, server_name)
            if reason is None:
                break
            reasons.append(reason)
        else:
            return f"the server may send {server_type}: " + "; ".join(reasons)
    return None


def branch_incompatibility(
    sdk: SchemaSide,
    sdk_branch: Schema,
    sdk_name: str | None,
    server: SchemaSide,
    server_branch: Schema,
    server_name: str | None,
) -> str | None:
    """Why a value of the server's branch fails the SDK's branch (a type, format or mirrored model apart)."""
    sdk_type, server_type = json_type(sdk_branch), json_type(server_branch)
    if sdk_type != server_type and not (sdk_type == "number" and server_type == "integer"):
        return f"the SDK takes {sdk_type}"
    sdk_format = sdk_branch.get("format")
    if sdk_type == "string" and sdk_format is not None and sdk_format != server_branch.get("format"):
        return f"the SDK takes a {sdk_format} string"
    if sdk_type == "array":
        items = incompatibility(sdk, sdk_branch.get("items", {}), server, server_branch.get("items", {}))
        return None if items is None else f"items: {items}"
    if sdk_type == "object" and sdk_name is not None:
        expected = next((s for m, s in SERVER_SCHEMA_OF.items() if m.__name__ == sdk_name), None)
        if server_name != expected:
            return f"the SDK's {sdk_name} mirrors {expected}, not {server_name}"
    return None


@pytest.mark.parametrize(
    ("model", "schema_name"), list(SERVER_SCHEMA_OF.items()), ids=[m.__name__ for m in SERVER_SCHEMA_OF]
)
def test_sdk_model_fields_exist_on_the_server_with_a_compatible_type(
    model: type[BaseModel], schema_name: str, server_schemas: dict[str, Schema]
) -> None:
    assert schema_name in server_schemas, f"the server has no schema {schema_name}"
    server_model = server_schemas[schema_name]
    sdk_document = model.model_json_schema(mode="validation")
    sdk, server = SchemaSide(sdk_document.get("$defs", {})), SchemaSide(server_schemas)
    server_fields: dict[str, Schema] = server_model.get("properties", {})
    server_required = set(server_model.get("required", []))
    problems = []
    for field, sdk_field in sdk_document["properties"].items():
        if field not in server_fields:
            problems.append(f"{field}: not in the server's {schema_name}")
            continue
        if field in sdk_document.get("required", []) and field not in server_required:
            problems.append(f"{field}: required by the SDK, optional on the server")
        reason = incompatibility(sdk, sdk_field, server, server_fields[field])
        if reason is not None:
            problems.append(f"{field}: {reason}")
    assert not problems, f"{model.__name__} vs the server's {schema_name}:\n  " + "\n  ".join(problems)
