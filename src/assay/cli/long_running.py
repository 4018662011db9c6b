"""Settling a long-running process (`assay serve`, `assay worker`) before it starts taking work."""

from __future__ import annotations

import gc
import sys

YOUNG_GENERATION_THRESHOLD = 20_000
"""Allocations between young collections. The default (700) collects several times per ingested batch of
100 events while the batch is still alive, promoting it to older generations only to be collected again."""


GIL_SWITCH_INTERVAL = 0.001
"""Seconds a busy thread may hold the GIL while another waits (Python's default is 0.005). The database
driver's thread (aiosqlite) needs the GIL briefly to pick up each statement and hand back its result;
behind a busy event loop it waited up to 5 ms every time. With 1 ms, ingestion with online evaluation in
one process went from about 5,200 to about 6,300 events/s in alternating runs of `bench/ingest_bench.py`."""


def settle_process() -> None:
    """Import what the first requests would, freeze what is alive for the collector, shorten the GIL interval.

    The process starts with some 180,000 long-lived objects (the web stack, SQLAlchemy, provider SDKs);
    without this every full collection walks all of them again (about 0.1 s each under ingestion load).
    """
    from assay.providers.registry import warm_up_sdks

    warm_up_sdks()
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
