"""`GET /healthz`: liveness, database reachability and the Python sandbox's layers, without authentication."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from assay import __version__
from assay.api.deps import SessionDep
from assay.sandbox.shared import shared_pool
from assay.storage.db import ping

router = APIRouter(tags=["health"])


async def sandbox_report() -> dict[str, Any]:
    """Whether Python evaluators can run, and what each sandbox layer reported (probed once per process)."""
    pool = shared_pool()
    layers = await asyncio.to_thread(pool.layers)
    reason = pool.unavailable_reason()
    return {
        "status": "ok" if reason is None else "unavailable",
        "layers": layers,
        **({"reason": reason} if reason else {}),
    }


@router.get("/healthz")
async def healthz(session: SessionDep) -> JSONResponse:
    """Report whether the service and its database answer, and whether Python evaluators can run.

    A sandbox that lacks a required layer does not fail the check: only Python evaluators are refused.
    """
    sandbox = await sandbox_report()
    try:
        await ping(session=session)
    except Exception as exc:  # the point of a health check is to report any failure
        body = {"status": "error", "database": str(exc)[:200], "python_sandbox": sandbox, "version": __version__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "python_sandbox": sandbox, "version": __version__})
