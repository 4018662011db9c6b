"""Cases and datasets: what an evaluation runs, written in Python, read from a suite file, or a stored dataset."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assay.local.suitefile import CaseModel, SuiteFile, load_suite


@dataclass(frozen=True, slots=True)
class Case:
    """One test case: the input the agent gets and what good looks like."""

    input: str
    """The message the agent under test receives."""
    name: str | None = None
    """Shown in reports and as the pytest test id; defaults to the case's number and input."""
    expected_behavior: str | None = None
    """What a good answer does, in words (the default LLM judge and `{{expected}}` in prompts read it)."""
    expected_tool_calls: list[dict[str, Any]] | None = None
    """`[{"name", "arguments"}]` the agent should call (a `tool_call_match` check reads them)."""
    tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The case as a suite file holds it (validated; ValueError naming the problem otherwise)."""
        try:
            return CaseModel.model_validate(
                {
                    "input": self.input,
                    "name": self.name,
                    "expected_behavior": self.expected_behavior,
                    "expected_tool_calls": self.expected_tool_calls,
                    "tags": list(self.tags),
                }
            ).model_dump()
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"invalid case {self.name or self.input[:40]!r}: {problems}") from None

    @classmethod
    def coerce(cls, value: Case | str | Mapping[str, Any]) -> Case:
        """A `Case` from a case, an input string or a dict with the same fields (`input_message` for `input`)."""
        if isinstance(value, Case):
            return value
        if isinstance(value, str):
            return cls(input=value)
        data = dict(value)
        if "input_message" in data and "input" not in data:
            data["input"] = data.pop("input_message")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"invalid case {data!r}: {exc}") from None


@dataclass(slots=True)
class Dataset:
    """A named list of cases; from a suite file it also carries the suite's agent, evaluators and settings."""

    cases: list[Case] = field(default_factory=list)
    name: str = "evals"
    """The suite name the run is stored under (runs of one name pair up in `assay compare`)."""
    stored_dataset: str | None = None
    """An LLM-analytics dataset (name or id) whose items are added as cases when the run starts."""
    suite: SuiteFile | None = None
    """The suite file this dataset was read from, if any (its agent and evaluators are the defaults)."""

    def __post_init__(self) -> None:
        self.cases = [Case.coerce(c) for c in self.cases]

    def __len__(self) -> int:
        return len(self.cases)

    @classmethod
    def of(cls, cases: Iterable[Case | str | Mapping[str, Any]], *, name: str = "evals") -> Dataset:
        """A dataset of these cases (cases, input strings or dicts)."""
        return cls(cases=[Case.coerce(c) for c in cases], name=name)

    @classmethod
    def from_suite(cls, path: str | Path) -> Dataset:
        """The cases of a suite file, with its instance, evaluators, threshold, concurrency and repetitions.

        Raises `assay.local.suitefile.SuiteFileError` naming file, line and problem.
        """
        suite = load_suite(path)
        cases = [Case(**{k: v for k, v in c.items() if k in _CASE_FIELDS}) for c in suite.cases]
        return cls(cases=cases, name=suite.name, stored_dataset=suite.dataset, suite=suite)

    @classmethod
    def from_dataset(cls, dataset: str, *, name: str | None = None) -> Dataset:
        """The items of an LLM-analytics dataset (name or id) of the database the run uses, read when it starts."""
        return cls(cases=[], name=name or dataset, stored_dataset=dataset)


_CASE_FIELDS = frozenset({"input", "name", "expected_behavior", "expected_tool_calls", "tags"})
