"""The interactive API docs (Swagger UI) served from the installed `swagger-ui-bundle` package: no CDN."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from assay.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def api_docs(request: Request) -> Response:
    """Swagger UI over `/openapi.json`; its assets come from this server."""
    return render(request, "api_docs.html")


@router.get("/redoc")
async def redoc(request: Request) -> Response:
    return RedirectResponse("/docs", status_code=307)
