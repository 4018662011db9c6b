"""`GET /v1/workers`: the job queue's workers, queues, stalled jobs and the cluster's rate budgets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from assay.api.deps import Principal, SessionDep, SettingsDep, tenant_access
from assay.settings import uses_job_queue
from assay.storage import worker_processes

router = APIRouter(tags=["Workers"])
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]


@router.get("/v1/workers")
async def list_workers(session: SessionDep, settings: SettingsDep, principal: Access) -> dict[str, Any]:
    """Workers alive (concurrency, cases in flight, load), jobs per queue and status, stalled jobs, budgets' fill.

    Budgets are named by a hash of their key and shown without their endpoint, which may belong to another
    environment. On SQLite (in-process dispatch) the answer says so and lists nothing.
    """
    if not uses_job_queue(settings):
        return {"dispatch": "in_process", "workers": [], "queues": {}, "stalled_jobs": 0, "budgets": []}
    found = await worker_processes.queue_status(session=session, stalled_seconds=settings.queue_stalled_seconds)
    data = worker_processes.as_dict(found)
    for budget in data["budgets"]:
        budget.pop("label", None)
    alive = [w for w in data["workers"] if w["alive"]]
    return {
        "dispatch": "queue",
        "cluster_concurrency": sum(w["concurrency"] for w in alive),
        "cases_in_flight": sum(w["in_flight"] for w in alive),
        **data,
    }
