"""Cluster-wide RPM/TPM budgets: each provider key's buckets are rows in PostgreSQL (`storage/budgets.py`).

Every process draws from the same row in small batches (about a tenth of a second of the rate), so the hot
path rarely waits on a round trip, and the cluster together stays within the key's limits. The bucket holds
at most half a second of requests (five seconds of tokens): a burst above the provider's own bucket never
leaves the cluster.
"""

from __future__ import annotations

import hashlib

from assay.providers import ProviderRegistry
from assay.providers.budget import SharedBucket, SharedKeyBudget
from assay.providers.datatypes import EndpointConfig
from assay.providers.registry import BudgetFactory
from assay.storage import budgets
from assay.storage.db import SessionFactory

REQUEST_BURST_SECONDS = 0.5
TOKEN_BURST_SECONDS = 5.0
BATCH_SECONDS = 0.1


def budget_name(kind: str, endpoint: EndpointConfig) -> str:
    """`rpm:`/`tpm:` and a hash of provider, base URL and key (the key itself is never stored)."""
    provider, base_url, key = endpoint.client_key()
    digest = hashlib.sha256(f"{provider}\x00{base_url}\x00{key}".encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


def _bucket(
    sessionmaker: SessionFactory, name: str, label: str, per_minute: float, burst_seconds: float
) -> SharedBucket:
    rate = per_minute / 60.0
    capacity = max(1.0, rate * burst_seconds)

    async def draw(want: float) -> float:
        async with sessionmaker() as session:
            return await budgets.draw(session=session, name=name, rate=rate, capacity=capacity, want=want, label=label)

    return SharedBucket(draw, rate_per_minute=per_minute, capacity=capacity, batch=max(1.0, rate * BATCH_SECONDS))


def cluster_budget_factory(sessionmaker: SessionFactory) -> BudgetFactory:
    """A `ProviderRegistry.share_budgets` factory drawing from the database's `rate_budgets` rows."""

    def factory(endpoint: EndpointConfig) -> SharedKeyBudget | None:
        if not endpoint.rpm and not endpoint.tpm:
            return None
        label = f"{endpoint.provider} {endpoint.base_url or ''} {endpoint.model}".strip()
        requests = (
            _bucket(sessionmaker, budget_name("rpm", endpoint), label, endpoint.rpm, REQUEST_BURST_SECONDS)
            if endpoint.rpm
            else None
        )
        tokens = (
            _bucket(sessionmaker, budget_name("tpm", endpoint), label, endpoint.tpm, TOKEN_BURST_SECONDS)
            if endpoint.tpm
            else None
        )
        return SharedKeyBudget(requests, tokens)

    return factory


def install_cluster_budgets(registry: ProviderRegistry, sessionmaker: SessionFactory) -> None:
    """Make the registry's RPM/TPM budgets cluster-wide."""
    registry.share_budgets(cluster_budget_factory(sessionmaker))
