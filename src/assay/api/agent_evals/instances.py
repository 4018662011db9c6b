"""`/v1/instances`: the agents under test."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/instances", tags=["Instances"])
