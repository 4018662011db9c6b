"""`/api/environments/{environment_id}/llm_provider_keys`: LLM provider keys for judges."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/environments/{environment_id}/llm_provider_keys", tags=["llm_provider_keys"])
