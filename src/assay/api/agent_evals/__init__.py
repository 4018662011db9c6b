"""The agent-evaluations surface under /v1/."""
