"""`/api/projects/{project_id}/llm_analytics/score_definitions/validate_composition`: composite scorers are not
served, so this always answers 400. Its own router, included before the scorers', so the path is not read as a
scorer id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from assay.api.deps import Principal, project_access
from assay.api.llm_analytics.common import scopes_doc
from assay.api.projects.wire import PROJECT_RESPONSES
from assay.errors import ValidationFailed
from assay.services.scorers import COMPOSITE_REFUSED

router = APIRouter(
    prefix="/api/projects/{project_id}/llm_analytics/score_definitions",
    tags=["projects: scorers"],
    responses=PROJECT_RESPONSES,
)
Read = Annotated[Principal, Depends(project_access("evaluation:read"))]


@router.post("/validate_composition", openapi_extra=scopes_doc("evaluation:read"))
async def validate_composition(principal: Read) -> dict[str, Any]:
    """Composite scorers are not supported: always a 400."""
    raise ValidationFailed(COMPOSITE_REFUSED, attr="composition", code="unsupported")
