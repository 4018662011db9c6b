"""The whole schema: importing this registers every table on `Base.metadata`."""

from __future__ import annotations

import assay.storage.event_tables  # noqa: F401  (registers the events table)
import assay.storage.online_tables  # noqa: F401  (registers the online evaluation tables)
import assay.storage.queue_tables  # noqa: F401  (registers the distributed-dispatch tables)
from assay.storage import run_tables, tables

metadata = tables.Base.metadata

__all__ = ["metadata", "run_tables", "tables"]
