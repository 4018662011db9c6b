"""The LLM-analytics surface under /api/environments/{environment_id}/."""
