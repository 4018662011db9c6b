"""Settling a long-running process (`assay serve`, `assay worker`) before it starts taking work."""

from __future__ import annotations

import gc

from assay.providers.registry import warm_up_sdks

YOUNG_GENERATION_THRESHOLD = 20_000
"""Allocations between young collections. The default (700) collects several times per ingested batch of
100 events while the batch is still alive, promoting it to older generations only to be collected again."""


def settle_process() -> None:
    """Import what the first requests would, then move everything alive into the collector's permanent set.

    The process starts with some 180,000 long-lived objects (the web stack, SQLAlchemy, provider SDKs);
    without this every full collection walks all of them again (about 0.1 s each under ingestion load).
    """
    warm_up_sdks()
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
