"""`/v1/recipes`: weighted sets of evaluators that score a case 0-100."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/recipes", tags=["Recipes"])
