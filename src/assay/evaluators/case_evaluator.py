"""The interface of a recipe item ready to run: prepared once per run, applied to every case."""

from __future__ import annotations

from abc import ABC, abstractmethod

from assay.domain.outcomes import CaseOutcome, Verdict


class CaseEvaluator(ABC):
    """One recipe item ready to run: parsed and compiled once, applied to many cases."""

    name: str

    @abstractmethod
    async def evaluate(self, outcome: CaseOutcome) -> Verdict:
        """Judge one case; failures are returned as a verdict with status `error`, never raised."""
