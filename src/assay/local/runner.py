"""Running a suite file in-process on the configured database (no server): store it, snapshot, execute."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

import orjson

from assay.domain.conversations import conversation_fields
from assay.engine.runs.dispatch import claim_run
from assay.engine.runs.executor import execute_run
from assay.engine.runs.judge_cache import DatabaseJudgeCache
from assay.errors import ResourceNotFound
from assay.local.dataset_cases import local_dataset_cases
from assay.local.outcome import RunOutcome, result_record
from assay.local.suitefile import SuiteFile
from assay.providers.registry import close_registry, get_registry
from assay.services import runs as run_service
from assay.settings import Settings
from assay.storage import environments as env_store
from assay.storage import instances as instance_store
from assay.storage import recipes as recipe_store
from assay.storage import run_execution
from assay.storage import runs as run_store
from assay.storage import suites as suite_store
from assay.storage.db import Session, SessionFactory, make_engine, make_sessionmaker
from assay.storage.migrate import upgrade
from assay.targets.http_call import close_http_clients
from assay.targets.spec import parse_spec
from assay.targets.stored import split_secrets

Progress = Callable[[int, int, int], None]
"""Called with (done, errors, total) while the run executes."""


async def _environment_id(session: Session, name: str) -> uuid.UUID:
    try:
        return (await env_store.find_environment(session=session, id_or_name=name)).id
    except ResourceNotFound:
        return (await env_store.create_environment(session=session, name=name)).id


def _case_fields(case: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "input_message": case["input"],
        "expected_behavior": case.get("expected_behavior"),
        "expected_tool_calls": case.get("expected_tool_calls"),
        "tags": case.get("tags") or [],
        "conversation": conversation_fields(case),
        "sort_order": index,
    }


def _case_key(fields: dict[str, Any]) -> str:
    """What makes two cases the same case, so runs of an edited file still pair up for `assay compare`."""
    return orjson.dumps(
        [
            fields["input_message"],
            fields["expected_behavior"],
            fields["expected_tool_calls"],
            fields["tags"],
            fields.get("conversation"),
        ],
        option=orjson.OPT_SORT_KEYS,
    ).decode()


def _pin(suite: SuiteFile) -> dict[str, Any]:
    """The dataset revision a run read, for its JSON report."""
    return {"dataset": suite.dataset_pin} if suite.dataset_pin is not None else {}


async def store_suite(
    session: Session, suite: SuiteFile, *, environment_id: uuid.UUID, repetitions: int, secret_key: str
) -> tuple[uuid.UUID, dict[str, int]]:
    """Create or update the suite of this name (instance, recipe, cases); returns its id and case id -> index.

    Re-running a suite file reuses the stored suite and keeps the ids of unchanged cases, so its runs can be
    compared; cases no longer in the file are removed, new ones added.
    """
    if suite.dataset:
        cases, suite.dataset_pin = await local_dataset_cases(
            session, environment_id, suite.dataset, revision=suite.dataset_revision
        )
        suite.cases = [*suite.cases, *cases]
    config, secrets = split_secrets(parse_spec(suite.instance))  # type: ignore[arg-type]
    recipe_fields = {"name": suite.name, "items": suite.items, "pass_threshold": suite.pass_threshold}
    suite_config: dict[str, Any] = {"repetitions": repetitions, "concurrency": suite.concurrency}
    if suite.dataset_pin is not None:
        suite_config["dataset"] = suite.dataset_pin
    row = await suite_store.find_suite_by_name(session=session, environment_id=environment_id, name=suite.name)
    instance = recipe = None
    if row is not None and row.instance_id is not None and row.recipe_id is not None:
        try:
            instance = await instance_store.get_instance(
                session=session, environment_id=environment_id, instance_id=row.instance_id
            )
            recipe = await recipe_store.get_recipe(
                session=session, environment_id=environment_id, recipe_id=row.recipe_id
            )
        except ResourceNotFound:
            instance = recipe = None
    if row is None or instance is None or recipe is None:
        instance = await instance_store.create_instance(
            session=session,
            environment_id=environment_id,
            name=suite.name,
            kind=suite.instance_kind,
            config=config,
            secrets=secrets,
            secret_key=secret_key,
        )
        recipe = await recipe_store.create_recipe(session=session, environment_id=environment_id, fields=recipe_fields)
        suite_fields = {
            "name": suite.name,
            "description": suite.description,
            "instance_id": instance.id,
            "recipe_id": recipe.id,
            "config": suite_config,
        }
        if row is None:
            row = await suite_store.create_suite(session=session, environment_id=environment_id, fields=suite_fields)
        else:
            row = await suite_store.update_suite(session=session, row=row, fields=suite_fields)
    else:
        await instance_store.update_instance(
            session=session,
            row=instance,
            kind=suite.instance_kind,
            config=config,
            secrets=secrets,
            secret_key=secret_key,
        )
        await recipe_store.update_recipe(session=session, row=recipe, fields=recipe_fields)
        row = await suite_store.update_suite(
            session=session, row=row, fields={"description": suite.description, "config": suite_config}
        )
    stored: dict[str, list[Any]] = {}
    for existing in await suite_store.list_test_cases(session=session, suite_id=row.id):
        key = _case_key(
            {
                "input_message": existing.input_message,
                "expected_behavior": existing.expected_behavior,
                "expected_tool_calls": existing.expected_tool_calls,
                "tags": existing.tags,
                "conversation": existing.conversation,
            }
        )
        stored.setdefault(key, []).append(existing)
    index: dict[str, int] = {}
    for i, case in enumerate(suite.cases):
        fields = _case_fields(case, i)
        same = stored.get(_case_key(fields))
        if same:
            kept = same.pop(0)
            kept.sort_order = i
            index[str(kept.id)] = i
            continue
        created = await suite_store.create_test_case(
            session=session, environment_id=environment_id, suite_id=row.id, fields=fields
        )
        index[str(created.id)] = i
    for leftovers in stored.values():
        for gone in leftovers:
            await suite_store.delete_test_case(session=session, row=gone)
    await session.flush()
    return row.id, index


async def _poll(sessionmaker: SessionFactory, run_id: uuid.UUID, progress: Progress) -> None:
    while True:
        async with sessionmaker() as session:
            done, errors, total = await run_store.run_progress(session=session, run_id=run_id)
        progress(done, errors, total)
        await asyncio.sleep(0.1)


class NotResumable(ValueError):
    """The run asked for cannot be resumed here (another suite's, or executed elsewhere right now)."""


async def run_local(
    suite: SuiteFile,
    settings: Settings,
    *,
    environment: str = "local",
    repetitions: int | None = None,
    progress: Progress | None = None,
    resume: uuid.UUID | Literal["latest"] | None = None,
) -> RunOutcome:
    """Store the suite in `environment`, execute one run in this process and return its results.

    `resume` continues an earlier run of this suite (`"latest"`: its most recent one) instead of starting one:
    the cases without a result run, the others are kept (a finished run is returned as it is). A run stopped
    in this process (a cancelled task, Ctrl-C in a notebook) gives up its lease, so it can be resumed at once.
    Raises `assay.errors.DomainError` (e.g. `ValidationFailed` when a judge has no model) before any case runs,
    and `NotResumable`.
    """
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        sessionmaker = make_sessionmaker(engine)
        reps = repetitions or suite.repetitions
        async with sessionmaker() as session:
            env_id = await _environment_id(session, environment)
            suite_id, index = await store_suite(
                session, suite, environment_id=env_id, repetitions=reps, secret_key=settings.secret_key
            )
            if resume is None:
                run = await run_service.start_run(
                    session=session, environment_id=env_id, suite_id=suite_id, settings=settings
                )
            else:
                run = await _run_to_resume(session, suite_id, resume)
                await session.commit()
            run_id, status = run.id, str(run.status)
        if resume is not None and status not in ("queued", "running", "completed"):
            raise NotResumable(f"run {run_id} is {status}: only an interrupted run can be resumed")
        if status != "completed":
            status = await _execute(sessionmaker, run_id, settings, progress)
        async with sessionmaker() as session:
            return await _outcome(
                session, suite, settings, env_id, suite_id, run_id, status, index, progress, environment
            )
    finally:
        await close_registry()
        await close_http_clients()
        await engine.dispose()


async def _run_to_resume(session: Session, suite_id: uuid.UUID, resume: uuid.UUID | str) -> Any:
    if resume == "latest":
        row = await run_store.latest_run(session=session, suite_id=suite_id)
        if row is None:
            raise NotResumable("the suite has no run to resume")
        return row
    rows = {r.id: r for r in await run_store.list_runs(session=session, suite_id=suite_id)}
    row = rows.get(uuid.UUID(str(resume)))
    if row is None:
        raise NotResumable(f"no run {resume} of this suite")
    return row


async def _execute(
    sessionmaker: SessionFactory, run_id: uuid.UUID, settings: Settings, progress: Progress | None
) -> str:
    worker = f"assay-run:{socket.gethostname()}:{os.getpid()}"
    if not await claim_run(sessionmaker, run_id, worker):
        raise NotResumable(f"run {run_id} is being executed by another process (its lease has not lapsed)")
    poller = asyncio.create_task(_poll(sessionmaker, run_id, progress)) if progress else None
    try:
        return await execute_run(
            run_id,
            sessionmaker=sessionmaker,
            secret_key=settings.secret_key,
            registry=get_registry(),
            judge_cache=DatabaseJudgeCache(sessionmaker),
        )
    except asyncio.CancelledError:
        # Stopped here: give the lease up, so `resume` can go on with it at once.
        async with sessionmaker() as session:
            await run_execution.extend_lease(session=session, run_id=run_id, lease=timedelta(0))
            await session.commit()
        raise
    finally:
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)


async def _outcome(
    session: Session,
    suite: SuiteFile,
    settings: Settings,
    env_id: uuid.UUID,
    suite_id: uuid.UUID,
    run_id: uuid.UUID,
    status: str,
    index: dict[str, int],
    progress: Progress | None,
    environment: str,
) -> RunOutcome:
    row = await run_store.get_run(session=session, environment_id=env_id, run_id=run_id)
    if progress:
        progress(row.completed_cases, row.error_cases, row.total_cases)
    records: list[dict[str, Any]] = []
    for r in await run_store.list_results(session=session, run_id=run_id):
        i = index.get(str(r.test_case_id))
        if i is None:  # a resumed run's case that the suite no longer has
            continue
        records.append(
            result_record(
                suite.cases[i],
                i,
                {
                    "repetition": r.repetition,
                    "status": r.status,
                    "score": r.score,
                    "score_reason": r.score_reason,
                    "agent_response": r.agent_response,
                    "tool_calls_made": r.tool_calls_made,
                    "latency_ms": r.latency_ms,
                    "tokens_used": r.tokens_used,
                    "error": r.error,
                    "evaluator_results": r.evaluator_results,
                    "transcript": r.transcript,
                },
            )
        )
    records.sort(key=lambda x: (x["case"], x["repetition"]))
    return RunOutcome(
        suite=suite.name,
        run_id=str(run_id),
        status=status,
        summary=dict(row.summary or {}),
        results=records,
        pass_threshold=suite.pass_threshold,
        where=settings.database_url,
        error=row.error,
        extra={"suite_id": str(suite_id), "environment": environment, **_pin(suite)},
    )
