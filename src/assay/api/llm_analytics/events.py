"""`/api/environments/{environment_id}/events`: ingested events, authenticated."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/environments/{environment_id}/events", tags=["events"])
