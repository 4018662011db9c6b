"""`/api/environments/{environment_id}/reset_token`: rotate the environment's project token.

The project token is the public, write-only credential PostHog SDKs send to the capture endpoints
(`/batch/`, `/capture/`, …). Resetting it gives the environment a fresh token; the old one is refused
(401) from the moment the change is committed, so every SDK must be given the new one.

Scope: `event:write`. The project token grants nothing but event ingestion, so whoever may write
events decides which token writes them; a read-only key, or one that only manages datasets or
evaluations, cannot lock the environment's SDKs out. PostHog names this operation `reset_token` and
its own frontend sends `PATCH`; both `POST` and `PATCH` are accepted and answer the same.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from assay.api.deps import Principal, SessionDep, environment_access
from assay.api.llm_analytics.common import ERROR_RESPONSES, scopes_doc
from assay.services.environments import rotate_project_token

router = APIRouter(prefix="/api/environments/{environment_id}", tags=["environments"], responses=ERROR_RESPONSES)
Access = Annotated[Principal, Depends(environment_access("event"))]


class EnvironmentToken(BaseModel):
    """An environment with its (new) project token."""

    id: str
    name: str
    project_token: str = Field(description="The token SDKs must now send; the previous one is refused.")
    api_token: str = Field(description="The same token under PostHog's name for it, for clients written against it.")


@router.post("/reset_token", openapi_extra=scopes_doc("event:write"))
@router.patch("/reset_token", openapi_extra=scopes_doc("event:write"))
async def reset_token(session: SessionDep, principal: Access) -> EnvironmentToken:
    """Replace the environment's project token with a fresh one; the old token stops working at once."""
    row = await rotate_project_token(session=session, environment_id=principal.environment_id)
    return EnvironmentToken(id=str(row.id), name=row.name, project_token=row.project_token, api_token=row.project_token)
