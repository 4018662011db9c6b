"""Property-based fuzzing of every endpoint from the served OpenAPI document: never a 5xx."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from assay.api.app import create_app
from assay.settings import Settings
from assay.storage import environments as env_store
from assay.storage.db import make_engine, make_sessionmaker
from assay.storage.migrate import upgrade

# Subprocesses and long property runs: on a loaded 2-core machine these take minutes, not seconds.
pytestmark = pytest.mark.timeout(360)

MAX_EXAMPLES = int(os.environ.get("ASSAY_FUZZ_EXAMPLES", "30"))
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("ASSAY_TEST_POSTGRES_URL") else [])


@dataclass
class FuzzTarget:
    app: object
    env_id: str
    key: str
    suite_id: str


async def _prepare(url: str) -> tuple[str, str, str]:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            env = await env_store.create_environment(session=session, name=f"fuzz-{uuid.uuid4().hex[:8]}")
            _, new = await env_store.create_api_key(
                session=session,
                environment_id=env.id,
                scopes=["dataset:read", "dataset:write", "evaluation:read", "evaluation:write", "event:write"],
            )
            await session.commit()
            return str(env.id), new.key, str(uuid.uuid4())
    finally:
        await engine.dispose()


async def _fresh_postgres(name: str) -> str:
    base = os.environ["ASSAY_TEST_POSTGRES_URL"]
    admin = make_engine(base)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FuzzTarget:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'fuzz.db'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        url = asyncio.run(_fresh_postgres(f"assay_fuzz_{worker}_{os.getpid()}"))
    env_id, key, suite_id = asyncio.run(_prepare(url))
    app = create_app(Settings(database_url=url, _env_file=None))  # type: ignore[call-arg]
    return FuzzTarget(app, env_id, key, suite_id)


@pytest.mark.slow
def test_no_server_errors(fuzz_target: FuzzTarget, request: pytest.FixtureRequest) -> None:
    """Hypothesis over every operation on PostgreSQL, whose column types refuse more than SQLite's (the SQLite
    backend is fuzzed by `test_schemathesis_all_checks`, whose checks include "no server error")."""
    if request.node.callspec.params["fuzz_target"] == "sqlite" and len(BACKENDS) > 1:
        pytest.skip("SQLite is fuzzed by test_schemathesis_all_checks, which also checks for server errors")
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app)
    failures: list[str] = []
    statuses: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:  # noqa: ANN001
            for name in ("environment_id", "project_id"):
                if name in (case.path_parameters or {}):
                    case.path_parameters[name] = fuzz_target.env_id
            response = case.call(headers={"X-Api-Key": fuzz_target.key})
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        check()
    assert failures == []
    assert {200, 201} <= statuses and statuses & {400, 422}  # the fuzz reached the handlers, not only auth


# Values Python's JSON reader accepts but JSON and the databases do not; schemathesis only sends valid JSON.
UNSTORABLE_LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", '"\\ud800"', '"a\\udfffb"']


def test_unstorable_json_values_are_refused_everywhere(fuzz_target: FuzzTarget) -> None:
    """Every JSON-body operation answers 400 (`/api/`) or 422 (`/v1/`) to each literal in each top-level field."""

    async def run() -> list[str]:
        problems: list[str] = []
        transport = httpx.ASGITransport(app=fuzz_target.app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            spec = (await client.get("/openapi.json")).json()
            schemas = spec["components"]["schemas"]
            operations = 0
            for path, item in spec["paths"].items():
                for method, operation in item.items():
                    content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
                    if "application/json" not in content:
                        continue
                    operations += 1
                    schema = content["application/json"].get("schema", {})
                    if "$ref" in schema:
                        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                    fields = list(schema.get("properties", {})) or ["value"]
                    url = path.replace("{environment_id}", fuzz_target.env_id)
                    while "{" in url:
                        url = url[: url.index("{")] + str(uuid.uuid4()) + url[url.index("}") + 1 :]
                    expected = 400 if path.startswith("/api/") else 422
                    for literal in UNSTORABLE_LITERALS:
                        bodies = [literal, *(f'{{"{field}": {literal}}}' for field in fields)]
                        bodies.append(f'{{"{fields[0]}": {{"nested": [{literal}]}}}}')
                        for body in bodies:
                            r = await client.request(
                                method.upper(),
                                url,
                                content=body.encode(),
                                headers={"X-Api-Key": fuzz_target.key, "Content-Type": "application/json"},
                            )
                            if r.status_code != expected or not r.json():
                                problems.append(f"{method.upper()} {path} {body} -> {r.status_code} {r.text[:200]}")
            assert operations >= 20
        return problems

    assert asyncio.run(run()) == []


CHECK_EXAMPLES = int(os.environ.get("ASSAY_FUZZ_CHECK_EXAMPLES", "5"))

# Checks left out, and why (everything else of `--checks all` must find nothing):
EXCLUDED_CHECKS = {
    # The document gives shapes; the server also applies rules JSON Schema does not carry, and answers them with
    # 400/422 as PostHog does: names must not be blank, a referenced dataset/instance/recipe must exist, a base_url
    # must be a URL, an instance config needs the kind's fields, PATCH refuses null for non-nullable columns, query
    # filters must parse (UUID lists, ISO datetimes, booleans, cursors), strings may not hold NUL, capture needs a
    # body or `data=`, and a hard DELETE is refused by design (405, as documented).
    "positive_data_acceptance",
}
EXCLUDED_PER_OPERATION = {
    # POST events also takes a bare array of events (the SDKs' batch form), which the document does not describe.
    ("POST /api/environments/{environment_id}/events", "negative_data_rejection"),
}


@pytest.mark.slow
def test_schemathesis_all_checks(fuzz_target: FuzzTarget, request: pytest.FixtureRequest) -> None:
    """Schemathesis' own engine with every check (as `--checks all`): examples, coverage and fuzzing phases."""
    if request.node.callspec.params["fuzz_target"] != "sqlite":
        pytest.skip("the document and the answers do not depend on the database; one backend keeps it short")
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events

    config = SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "cache": {"enabled": False},  # no state kept in the working tree between runs
            "auth": {"openapi": {"APIKeyHeader": {"api_key": fuzz_target.key}}},
            "parameters": {"environment_id": fuzz_target.env_id, "project_id": fuzz_target.env_id},
            "generation": {"max-examples": CHECK_EXAMPLES},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    config.projects.default.checks.update(included_check_names=["all"], excluded_check_names=sorted(EXCLUDED_CHECKS))
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app, config=config)
    findings: set[str] = set()
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if (
                        check.failure_info is not None
                        and (event.recorder.label, check.name) not in EXCLUDED_PER_OPERATION
                    ):
                        interaction = event.recorder.interactions.get(case_id)
                        answer = interaction.response if interaction is not None else None
                        status = answer.status_code if answer is not None else None
                        findings.add(
                            f"{event.recorder.label} [{check.name}] {check.failure_info.failure.title} ({status})"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            errors.append(str(event))
    assert errors == []
    assert sorted(findings) == []
