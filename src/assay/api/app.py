"""The FastAPI application: both API surfaces over one database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assay import __version__
from assay.api import health
from assay.api.agent_evals import analysis, instances, recipes, runs, test_cases
from assay.api.agent_evals import evaluations as agent_evaluations
from assay.api.agent_evals import workers as worker_status
from assay.api.body_limit import BodyLimitMiddleware
from assay.api.errors import install_error_handlers
from assay.api.ingest import capture, otlp
from assay.api.ingest.notify import online_notifier
from assay.api.llm_analytics import (
    dataset_items,
    datasets,
    environment_token,
    evaluation_runs,
    evaluations,
    events,
    provider_keys,
    test_hog,
)
from assay.api.openapi_doc import install_openapi
from assay.api.projects import dataset_items as project_dataset_items
from assay.api.projects import datasets as project_datasets
from assay.api.projects import offline_experiments, scorer_composition, scorers
from assay.api.routing import install_routing
from assay.api.strict_json import StrictJsonMiddleware
from assay.concurrency import STOP_GRACE_SECONDS, cancel_and_wait
from assay.engine.background import BackgroundWorkers
from assay.providers import close_registry
from assay.sandbox.shared import configure as configure_sandbox
from assay.services.otlp_ingestion import sweep_forever, sweep_interval
from assay.services.passwords import Passwords
from assay.settings import Settings, get_settings, uses_job_queue
from assay.shared_routers import include_shared
from assay.storage.db import DatabaseEngine, make_engine, make_sessionmaker
from assay.storage.planner_stats import keep_planner_statistics
from assay.targets import close_http_clients
from assay.web.mount import install_web

DESCRIPTION = """\
Assay evaluates LLM applications and agents. It serves two API surfaces over one domain model:

* **LLM analytics** under `/api/environments/{environment_id}/`: datasets, dataset items and evaluations
  (evaluator definitions run online against logged `$ai_generation` events). Errors are
  `{"type", "code", "detail", "attr"}`; hard deletes answer 405.
* **Agent evaluations** under `/v1/`: suites of test cases run against an agent instance, with results.
  Invalid input answers 422 with `{"detail": [{"loc", "msg", "type"}]}`.

Authenticate with a personal API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
Each route lists its required scope (`x-required-scopes`): `dataset:read`, `dataset:write`,
`evaluation:read`, `evaluation:write`, `event:read`, `event:write`. GET needs read; every other method needs
write; a write scope also reads, except `event:write`, which only ingests.
"""


def create_app(settings: Settings | None = None, *, engine: DatabaseEngine | None = None) -> FastAPI:
    """Build the application. The engine is created here (no I/O) and disposed at shutdown."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url, pool_size=settings.db_pool_size)
    configure_sandbox(settings.sandbox_pool_config())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        statistics = asyncio.create_task(keep_planner_statistics(engine)) if engine.dialect.name == "sqlite" else None
        workers = None
        sweeper: asyncio.Task[None] | None = None
        if settings.workers > 0 or uses_job_queue(settings):
            workers = BackgroundWorkers(app.state.sessionmaker, settings, execute=settings.workers > 0)
            await workers.start()
            app.state.dispatcher = workers.dispatcher
            if workers.online is not None:
                app.state.online = workers.online
            sweeper = asyncio.create_task(
                sweep_forever(
                    app.state.sessionmaker,
                    interval=sweep_interval(settings.otlp_log_wait_seconds),
                    notify=online_notifier(app),
                )
            )
        try:
            yield
        finally:
            loops = [task for task in (sweeper, statistics) if task is not None]
            await cancel_and_wait(loops, grace=STOP_GRACE_SECONDS, what="application loops")
            if workers is not None:
                await workers.stop()
            await close_registry()
            await close_http_clients()
            await engine.dispose()

    app = FastAPI(
        title="Assay",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served offline by the web UI (assay.web.pages.api_docs)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.passwords = Passwords(memory_kib=settings.password_memory_kib, time_cost=settings.password_time_cost)
    install_error_handlers(app)
    app.add_middleware(StrictJsonMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)  # outermost: 413 before buffering
    routers = (
        health,
        datasets,
        dataset_items,
        test_hog,  # before evaluations, so `evaluations/test_hog` is not read as an evaluation id
        evaluations,
        evaluation_runs,
        provider_keys,
        events,
        agent_evaluations,
        test_cases,
        runs,
        analysis,
        instances,
        recipes,
        worker_status,
        environment_token,
        project_datasets,
        project_dataset_items,
        scorer_composition,  # before scorers, so `validate_composition` is not read as a scorer id
        scorers,
        offline_experiments,
        capture,
        otlp,
    )
    for module in routers:
        include_shared(app, module.router)
    install_routing(app)
    install_openapi(app)
    install_web(app)
    return app
