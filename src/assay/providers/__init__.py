"""LLM provider adapters with per-endpoint concurrency, rate budgets and retries."""
