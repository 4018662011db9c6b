"""`EvalSuite`: a dataset, an agent and evaluators bound together, to run again or collect with pytest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assay.evals._agent import AgentLike
from assay.evals._dataset import Case, Dataset
from assay.evals._evaluators import EvaluatorLike
from assay.evals._report import EvalReport
from assay.evals._run import evaluate, evaluate_sync


class EvalSuite:
    """What `evaluate` needs, kept together. A module-level `EvalSuite` in a test file is one pytest test per
    case under the `assay.pytest` plugin."""

    def __init__(
        self,
        dataset: Dataset | Iterable[Case | str | Mapping[str, Any]],
        agent: AgentLike | None = None,
        evaluators: Sequence[EvaluatorLike] | None = None,
        **options: Any,
    ) -> None:
        """`options` are `evaluate`'s keyword arguments (`name`, `pass_threshold`, `store`, …)."""
        self.dataset = dataset if isinstance(dataset, Dataset) else Dataset.of(dataset)
        self.agent = agent
        self.evaluators = evaluators
        self.options = options

    @classmethod
    def from_suite(cls, path: str | Path, **options: Any) -> EvalSuite:
        """A suite file as it stands: its cases, agent and evaluators."""
        return cls(Dataset.from_suite(path), **options)

    @property
    def name(self) -> str:
        return str(self.options.get("name") or self.dataset.name)

    async def run(self, **overrides: Any) -> EvalReport:
        """`evaluate` with these (and `overrides`)."""
        return await evaluate(self.dataset, self.agent, self.evaluators, **{**self.options, **overrides})

    def run_sync(self, **overrides: Any) -> EvalReport:
        """`evaluate_sync` with these (and `overrides`)."""
        return evaluate_sync(self.dataset, self.agent, self.evaluators, **{**self.options, **overrides})
