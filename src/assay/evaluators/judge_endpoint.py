"""Which endpoint an LLM judge calls: its model's provider key, else the server-wide default judge.

One set of rules for run snapshots and online evaluation. Loading and decrypting a provider key is I/O, so the
caller does it and passes what the key holds; the default judge is built from the settings values
(`ASSAY_JUDGE_MODEL`, `ASSAY_JUDGE_BASE_URL`, `ASSAY_JUDGE_API_KEY`, which `assay.settings` completes from the
provider's usual variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.providers.datatypes import EndpointConfig


@dataclass(frozen=True, slots=True)
class ProviderKeyCredentials:
    """What a stored provider key gives a judge's endpoint (the key already decrypted)."""

    provider: str
    base_url: str | None
    api_key: str | None
    rpm: float | None = None
    tpm: float | None = None


def default_judge_endpoint(
    provider_and_model: tuple[str, str] | None, *, base_url: str | None, api_key: str | None, concurrency: int
) -> EndpointConfig | None:
    """The server-wide judge, or None when no judge model is configured."""
    if provider_and_model is None:
        return None
    provider, model = provider_and_model
    return EndpointConfig(
        model=model, provider=provider, base_url=base_url, api_key=api_key, max_concurrency=concurrency
    )


def resolve_judge_endpoint(
    model: Mapping[str, Any] | None,
    *,
    default: EndpointConfig | None,
    provider_key: ProviderKeyCredentials | None,
    concurrency: int,
    require_served_provider: bool = False,
) -> EndpointConfig | None:
    """The endpoint a judge with this model configuration (`provider`, `model`, `provider_key_id`, `base_url`) calls.

    No model: the default judge (None when there is none). A provider key (`provider_key`, loaded by the caller
    for the model's `provider_key_id`): its base URL, key and RPM/TPM budgets, for the model's provider, else the
    key's. Otherwise the model's provider (OpenAI when unnamed) at the model's `base_url`; the default judge's URL
    and key are used when the default judge has the same provider. With `require_served_provider`, a model whose
    provider is neither served by the default judge nor given a `base_url` resolves to None instead of a call
    without a key.
    """
    if not model:
        return default
    if provider_key is not None:
        return EndpointConfig(
            model=str(model["model"]),
            provider=str(model.get("provider") or provider_key.provider),
            base_url=provider_key.base_url,
            api_key=provider_key.api_key,
            max_concurrency=concurrency,
            rpm=provider_key.rpm,
            tpm=provider_key.tpm,
        )
    provider = str(model.get("provider") or "openai")
    served = default if default is not None and default.provider == provider else None
    base_url = model.get("base_url") or (served.base_url if served is not None else None)
    if served is None and not base_url and require_served_provider:
        return None
    return EndpointConfig(
        model=str(model["model"]),
        provider=provider,
        base_url=base_url,
        api_key=served.api_key if served is not None else None,
        max_concurrency=concurrency,
    )
