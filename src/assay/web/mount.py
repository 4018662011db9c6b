"""Mount the web UI on the application: pages, static assets, page errors and security headers."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from assay.shared_routers import include_shared
from assay.web.errors import install_page_errors
from assay.web.pages import (
    admin,
    api_docs,
    compare,
    datasets,
    environment_picker,
    evaluation_editor,
    evaluation_health,
    evaluations,
    event_detail,
    events,
    invites,
    people,
    reliability,
    result_detail,
    review,
    run_exports,
    runs,
    sign_in,
    suite,
    suites,
    traces,
)
from assay.web.run_aggregates import RunAggregatesCache
from assay.web.security_headers import SecurityHeadersMiddleware
from assay.web.session_cookie import SessionSigner

STATIC_DIR = Path(__file__).parent / "static"
SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))  # Swagger UI 5 assets, installed with the package
PAGE_ROUTERS = (
    api_docs,
    sign_in,
    suites,
    suite,
    compare,
    runs,
    result_detail,
    run_exports,
    review,
    reliability,
    datasets,
    admin,
    events,
    event_detail,
    traces,
    evaluations,
    evaluation_health,
    evaluation_editor,
    people,
    invites,
    environment_picker,
)


def install_web(app: FastAPI) -> None:
    """Serve the UI at `/` (after the API's error handlers are installed, which it wraps)."""
    settings = app.state.settings
    app.state.web_signer = SessionSigner(settings.secret_key, max_age_seconds=settings.ui_session_seconds)
    app.state.run_aggregates = RunAggregatesCache()
    for module in PAGE_ROUTERS:
        include_shared(app, module.router)
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_page_errors(app)
    app.add_middleware(SecurityHeadersMiddleware)
