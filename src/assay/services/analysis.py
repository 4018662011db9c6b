"""Comparing two runs of one suite: the figures `GET /v1/evaluations/{id}/compare` answers and the web UI shows.

Both call `compare_suite_runs`, so the page and the API give the same numbers from the same code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from assay.domain.compare import aggregate_cases, compare_runs, unchanged_cases
from assay.domain.noise_band import noise_band
from assay.storage import analysis as store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.run_tables import RunRow
from assay.storage.tables import SuiteRow


@dataclass(frozen=True, slots=True)
class RunComparison:
    """A suite, its two runs and their comparison: `body` is the API's answer without `evaluation_id`;
    `unchanged` the paired cases whose score did not move; `noise` the band repetitions put around the mean
    change (None when no case was repeated)."""

    suite: SuiteRow
    base: RunRow
    head: RunRow
    body: dict[str, Any]
    unchanged: list[dict[str, Any]]
    noise: dict[str, Any] | None


async def compare_suite_runs(
    *,
    session: Session,
    environment_id: uuid.UUID,
    suite_id: uuid.UUID,
    base_id: uuid.UUID,
    head_id: uuid.UUID,
    alpha: float = 0.05,
) -> RunComparison:
    """Compare run `head_id` with run `base_id` of a suite; `ResourceNotFound` when the suite is not in this
    environment or a run is not one of the suite's."""
    suite = await suite_store.get_suite(session=session, environment_id=environment_id, suite_id=suite_id)
    base, head = [
        await store.get_suite_run(session=session, environment_id=environment_id, suite_id=suite.id, run_id=i)
        for i in (base_id, head_id)
    ]
    base_points = await store.result_points(session=session, run_id=base.id)
    head_points = await store.result_points(session=session, run_id=head.id)
    body = compare_runs(base_points, head_points, alpha=alpha)
    for key, run in (("base", base), ("head", head)):
        body[key] = {**body[key], "task_id": str(run.id), "status": run.status}
    base_cases, head_cases = aggregate_cases(base_points)[0], aggregate_cases(head_points)[0]
    return RunComparison(
        suite,
        base,
        head,
        body,
        unchanged_cases(base_cases, head_cases),
        noise_band(base_points, head_points, base_cases, head_cases),
    )


def default_pair(
    newest_first: list[uuid.UUID], base_id: uuid.UUID | None, head_id: uuid.UUID | None
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The runs to compare when one or both are not given: the head defaults to the latest run, the base to the
    run just before the head (or, given only a base, the head to the latest run); None where there is none."""
    if head_id is None:
        head_id = newest_first[0] if newest_first else None
    if base_id is None and head_id is not None:
        older = newest_first[newest_first.index(head_id) + 1 :] if head_id in newest_first else []
        base_id = older[0] if older else None
    return base_id, head_id
