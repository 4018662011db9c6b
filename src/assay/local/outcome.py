"""What a finished run hands to the reports: the summary and one plain dict per case and repetition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assay.local.suitefile import case_label


@dataclass(slots=True)
class RunOutcome:
    """A finished run, wherever it ran."""

    suite: str
    run_id: str
    status: str
    summary: dict[str, Any]
    results: list[dict[str, Any]]
    pass_threshold: float
    where: str
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def consistency(self) -> list[dict[str, Any]]:
        """Per-evaluator score spread and verdict flip rate across repetitions (empty without repetitions)."""
        from assay.local.consistency import repetition_consistency

        return repetition_consistency(self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "run_id": self.run_id,
            "status": self.status,
            "where": self.where,
            "error": self.error,
            "pass_threshold": self.pass_threshold,
            "summary": self.summary,
            "consistency": self.consistency,
            "results": self.results,
            **self.extra,
        }


def result_record(case: dict[str, Any], index: int, row: dict[str, Any]) -> dict[str, Any]:
    """One stored/returned result joined with its case (same shape for local and remote runs)."""
    latency = row.get("latency_ms")
    return {
        "case": index,
        "name": case_label(case, index),
        "input": case.get("input"),
        "expected_behavior": case.get("expected_behavior"),
        "expected_tool_calls": case.get("expected_tool_calls"),
        "tags": case.get("tags") or [],
        "repetition": int(row.get("repetition") or 0),
        "status": row.get("status"),
        "score": row.get("score"),
        "reason": row.get("score_reason"),
        "response": row.get("agent_response"),
        "tool_calls": row.get("tool_calls_made") or [],
        "latency_ms": round(float(latency), 2) if latency is not None else None,
        "tokens": row.get("tokens_used"),
        "error": row.get("error"),
        "evaluators": row.get("evaluator_results") or [],
        "transcript": row.get("transcript"),
    }
