"""`/batch/`, `/capture/`, `/e/`, `/i/v0/e/`: events sent by PostHog SDKs with a project token."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["capture"])
