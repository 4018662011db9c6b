"""Comparing runs and measuring judge agreement: `/v1/evaluations/{evaluation_id}/compare` and `/agreement`."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/evaluations/{evaluation_id}", tags=["Evaluations"])
