"""The statuses a run, a result and an online evaluation run go through, as stored and as the API shows them.

They are `StrEnum`s: a member equals its string, so stored values and JSON compare with them directly.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """An agent-evaluation run (a "task"): queued → running → completed, failed or cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_RUN_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
"""The run statuses that are final: nothing changes a run's results after one but overrides."""


class ResultStatus(StrEnum):
    """One case of a run: scored (passed, failed), errored, or without anything to score it against."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    UNSCORED = "unscored"


class EvaluationRunStatus(StrEnum):
    """An online (or manual) evaluation of one event by one evaluator."""

    QUEUED = "queued"
    RUNNING = "running"
    FINISHING = "finishing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


PENDING_EVALUATION_RUN_STATUSES = (
    EvaluationRunStatus.QUEUED,
    EvaluationRunStatus.RUNNING,
    EvaluationRunStatus.FINISHING,
    EvaluationRunStatus.RETRYING,
)
"""The evaluation-run statuses that are not final."""
