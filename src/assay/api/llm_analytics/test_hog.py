"""`POST /api/environments/{environment_id}/evaluations/test_hog`: try Hog code on recent events."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/environments/{environment_id}/evaluations", tags=["evaluations"])
