"""The run page's aggregates (chart measures, the evaluators that gave verdicts, how many results a filter lets
through), cached for finished runs.

Each costs a scan of the run's results, the same on every filter, sort and page of the table, so a finished
run's are kept per process under (run id, summary version): the version grows with every write of the summary
(the finish, each override or undo), in SQL, so no process serves aggregates older than the summary it shows.
A queued or running run is read afresh on every request.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from assay.charts import nice_edges
from assay.domain.statuses import FINISHED_RUN_STATUSES
from assay.storage import result_queries
from assay.storage.db import Session
from assay.storage.result_queries import ResultFilter, ResultPage, ResultSort, RunDistributions
from assay.storage.run_tables import RunRow

CACHED_RUNS = 64  # a few KB each
CACHED_COUNTS = 1024


@dataclass(frozen=True, slots=True)
class RunAggregates:
    """What every view of one run page needs, whatever the table shows."""

    distributions: RunDistributions
    evaluators: list[str]


class RunAggregatesCache:
    """The aggregates of the most recently viewed finished runs (least recently used leave first)."""

    def __init__(self, size: int = CACHED_RUNS, counts: int = CACHED_COUNTS) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[uuid.UUID, int], RunAggregates] = OrderedDict()
        self._counts = counts
        self._matching: OrderedDict[tuple[uuid.UUID, int, ResultFilter], int] = OrderedDict()

    async def get(self, session: Session, run: RunRow) -> RunAggregates:
        """The run's aggregates, from the cache when the run is finished and its summary unchanged."""
        if run.status not in FINISHED_RUN_STATUSES:
            return await compute_aggregates(session, run.id)
        key = (run.id, run.summary_version)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = await compute_aggregates(session, run.id)
        _remember(self._entries, key, found, self._size)
        return found

    async def page(
        self, session: Session, run: RunRow, flt: ResultFilter, sort: ResultSort, cursor: str | None
    ) -> ResultPage:
        """One page of the run's results table, counting the filter's matches only once per finished run."""
        key = (run.id, run.summary_version, flt)
        finished = run.status in FINISHED_RUN_STATUSES
        known = self._matching.get(key) if finished else None
        page = await result_queries.result_page(
            session=session, run_id=run.id, flt=flt, sort=sort, cursor=cursor, matching=known
        )
        if finished and known is None:
            _remember(self._matching, key, page.matching, self._counts)
        return page


def _remember(entries: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > size:
        entries.popitem(last=False)


async def compute_aggregates(session: Session, run_id: uuid.UUID) -> RunAggregates:
    """The run's aggregates, read from the database now."""
    spread = await result_queries.run_distributions(
        session=session, run_id=run_id, latency_edges=lambda top: nice_edges([top])
    )
    return RunAggregates(spread, await result_queries.evaluator_names(session=session, run_id=run_id))
