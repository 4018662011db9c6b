"""The whole schema: importing this registers every table on `Base.metadata`."""

from __future__ import annotations

import assay.storage.dataset_revision_tables  # noqa: F401  (registers dataset revisions and item versions)
import assay.storage.event_tables  # noqa: F401  (registers the events table)
import assay.storage.experiment_tables  # noqa: F401  (registers scorers and offline experiments)
import assay.storage.online_tables  # noqa: F401  (registers the online evaluation tables)
import assay.storage.otlp_tables  # noqa: F401  (registers the OTLP parts waiting to be joined)
import assay.storage.queue_tables  # noqa: F401  (registers the distributed-dispatch tables)
import assay.storage.user_tables  # noqa: F401  (registers roles, invites and sign-in failures)
from assay.storage import run_tables, tables

metadata = tables.Base.metadata

__all__ = ["metadata", "run_tables", "tables"]
