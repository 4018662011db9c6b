"""The LLM providers a provider key, an evaluation's model configuration or a judge's model may name."""

from __future__ import annotations

from typing import Literal, get_args

Provider = Literal["openai", "anthropic", "gemini", "openrouter", "fireworks", "azure_openai"]
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
"""Every `Provider`, in the order the API documents them."""
