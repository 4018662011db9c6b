"""`GET /healthz`: liveness and database reachability, without authentication."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from assay import __version__
from assay.api.deps import SessionDep
from assay.storage.db import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(session: SessionDep) -> JSONResponse:
    """Report whether the service and its database answer."""
    try:
        await ping(session=session)
    except Exception as exc:  # the point of a health check is to report any failure
        return JSONResponse({"status": "error", "database": str(exc)[:200], "version": __version__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
