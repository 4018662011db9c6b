"""The typed records of a run: its frozen snapshot, its cases and recipe, and the result of one case.

`RunSnapshot.to_json()` gives the JSON stored in `RunRow.snapshot` and `RunSnapshot.from_json()` reads it back,
old rows included (keys added later have defaults). The default recipe, used when a suite names none, is an
ordinary `RunRecipe` whose two items apply only to the cases that expect something of them (`default_recipe`);
it keeps its own stored form (`{"default": true, "judge": …, "tool_call_match": …}`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from assay.domain.statuses import ResultStatus

DEFAULT_PASS_THRESHOLD = 70.0
"""Pass mark on the 0–100 scale when a recipe does not give one."""

DEFAULT_JUDGE: dict[str, Any] = {"type": "llm_judge", "prompt": None, "output_type": "boolean"}
"""The default recipe's judge: it judges the output against the case's expected behaviour."""

DEFAULT_TOOL_CALL_MATCH: dict[str, Any] = {
    "type": "tool_call_match",
    "arguments": "subset",
    "ordered": False,
    "allow_extra": True,
}
"""The default recipe's tool-call check: arguments as subset, any order, extra calls allowed."""


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """One test case as the snapshot froze it."""

    id: str
    input_message: str
    expected_behavior: str | None = None
    expected_tool_calls: list[Any] | None = None
    tags: list[Any] = field(default_factory=list)
    conversation: dict[str, Any] | None = None
    """The case's conversation fields (`domain/conversations.py`); a simulated user carries its resolved
    `endpoint`. None: a one-turn case."""

    @property
    def expects_behavior(self) -> bool:
        """Whether the case has a non-blank expected behaviour."""
        return self.expected_behavior is not None and bool(self.expected_behavior.strip())

    @property
    def expects_tool_calls(self) -> bool:
        """Whether the case lists expected tool calls (an empty list is taken as "not specified")."""
        return bool(self.expected_tool_calls)

    def to_json(self) -> dict[str, Any]:
        """The case as stored in a snapshot."""
        data: dict[str, Any] = {
            "id": self.id,
            "input_message": self.input_message,
            "expected_behavior": self.expected_behavior,
            "expected_tool_calls": self.expected_tool_calls,
            "tags": self.tags,
        }
        if self.conversation is not None:
            data["conversation"] = self.conversation
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseSpec:
        """A case from its stored form."""
        return cls(
            id=str(data["id"]),
            input_message=data["input_message"],
            expected_behavior=data.get("expected_behavior"),
            expected_tool_calls=data.get("expected_tool_calls"),
            tags=data.get("tags") or [],
            conversation=data.get("conversation"),
        )


class AppliesTo(StrEnum):
    """Which cases a recipe item is applied to."""

    EVERY_CASE = "every_case"
    EXPECTED_BEHAVIOR = "expected_behavior"
    EXPECTED_TOOL_CALLS = "expected_tool_calls"


@dataclass(frozen=True, slots=True)
class RunItem:
    """One evaluator of a run's recipe: its resolved config (judges carry `judge_endpoint`), weight and rules.

    `implied` says why an item the recipe did not list was added (it is reported in the item's verdicts).
    """

    evaluator: dict[str, Any]
    weight: float = 1.0
    required: bool = False
    applies_to: AppliesTo = AppliesTo.EVERY_CASE
    implied: str | None = None
    cases_tagged: tuple[str, ...] = ()
    """When set, the item applies only to cases carrying one of these tags."""

    def applies(self, case: CaseSpec) -> bool:
        """Whether this item is applied to `case`."""
        if self.cases_tagged and not set(self.cases_tagged) & {str(t) for t in case.tags or ()}:
            return False
        if self.applies_to is AppliesTo.EXPECTED_BEHAVIOR:
            return case.expects_behavior
        if self.applies_to is AppliesTo.EXPECTED_TOOL_CALLS:
            return case.expects_tool_calls
        return True

    def to_json(self) -> dict[str, Any]:
        """The item as stored in a snapshot's recipe."""
        data = {"evaluator": self.evaluator, "weight": self.weight, "required": self.required}
        if self.cases_tagged:
            data["cases_tagged"] = list(self.cases_tagged)
        return data


IMPLIED_WHY = "The case has expected_tool_calls and no evaluator of the recipe reads them."


def implied_item(config: dict[str, Any]) -> RunItem:
    """The tool-call check a recipe gains for cases with expected tool calls when none of its items reads them."""
    return RunItem(evaluator=config, applies_to=AppliesTo.EXPECTED_TOOL_CALLS, implied=IMPLIED_WHY)


@dataclass(frozen=True, slots=True)
class RunRecipe:
    """A run's recipe: its items (the implied tool-call check last, when there is one) and pass threshold."""

    items: tuple[RunItem, ...]
    pass_threshold: float = DEFAULT_PASS_THRESHOLD
    default: bool = False

    @property
    def listed_items(self) -> tuple[RunItem, ...]:
        """The items the recipe names (without an implied one)."""
        return tuple(i for i in self.items if i.implied is None)

    def items_for(self, case: CaseSpec) -> list[int]:
        """The indexes of the items applied to `case`, in recipe order."""
        return [n for n, item in enumerate(self.items) if item.applies(case)]

    def to_json(self) -> dict[str, Any]:
        """The recipe as stored in a snapshot."""
        if self.default:
            judge, tool_call_match = self.items
            return {
                "default": True,
                "judge": judge.evaluator,
                "tool_call_match": tool_call_match.evaluator,
                "pass_threshold": self.pass_threshold,
            }
        data: dict[str, Any] = {
            "items": [i.to_json() for i in self.listed_items],
            "pass_threshold": self.pass_threshold,
        }
        implied = [i for i in self.items if i.implied is not None]
        if implied:
            data["implied_tool_call_match"] = implied[0].evaluator
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecipe:
        """A recipe from its stored form (the default recipe's included)."""
        threshold = float(data.get("pass_threshold", DEFAULT_PASS_THRESHOLD))
        if data.get("default"):
            return default_recipe(data["judge"], data["tool_call_match"], pass_threshold=threshold)
        items = [
            RunItem(
                evaluator=i["evaluator"],
                weight=float(i.get("weight", 1.0)),
                required=bool(i.get("required", False)),
                cases_tagged=tuple(i.get("cases_tagged") or ()),
            )
            for i in data.get("items", [])
        ]
        implied = data.get("implied_tool_call_match")
        if implied:
            items.append(implied_item(implied))
        return cls(items=tuple(items), pass_threshold=threshold)


def default_recipe(
    judge: dict[str, Any] | None = None,
    tool_call_match: dict[str, Any] | None = None,
    *,
    pass_threshold: float = DEFAULT_PASS_THRESHOLD,
) -> RunRecipe:
    """The recipe used when a suite names none: an LLM judge for cases with an expected behaviour and a
    tool-call match for cases with expected tool calls, each of weight 1 and not required. A case with
    neither has nothing to be scored against. `judge` is the judge's config (`DEFAULT_JUDGE` with its
    resolved endpoint, when a judge model is configured)."""
    return RunRecipe(
        items=(
            RunItem(evaluator=dict(judge or DEFAULT_JUDGE), applies_to=AppliesTo.EXPECTED_BEHAVIOR),
            RunItem(
                evaluator=dict(tool_call_match or DEFAULT_TOOL_CALL_MATCH), applies_to=AppliesTo.EXPECTED_TOOL_CALLS
            ),
        ),
        pass_threshold=pass_threshold,
        default=True,
    )


@dataclass(frozen=True, slots=True)
class RunSnapshot:
    """Everything a run needs, frozen when it is created: later edits of the suite never change it."""

    instance: str
    """The instance spec as JSON, encrypted with the server secret."""
    recipe: RunRecipe
    cases: tuple[CaseSpec, ...]
    repetitions: int = 1
    concurrency: int = 50
    instance_kind: str | None = None
    concurrency_limits: dict[str, Any] | None = None
    use_judge_cache: bool = True
    dataset: dict[str, Any] | None = None
    """The dataset revision the cases were read at (`{id, name, revision, revision_id}`), when they came from one."""
    experiment: dict[str, Any] | None = None
    """For a run uploaded as an offline experiment: the experiment's id and what it declared (versions, source)."""

    @property
    def total_cases(self) -> int:
        """How many results the run produces: every case, every repetition."""
        return len(self.cases) * self.repetitions

    def to_json(self) -> dict[str, Any]:
        """The snapshot as stored in `RunRow.snapshot`."""
        data: dict[str, Any] = {}
        if self.concurrency_limits is not None:
            data["concurrency_limits"] = self.concurrency_limits
        data["instance"] = self.instance
        if self.instance_kind is not None:
            data["instance_kind"] = self.instance_kind
        data.update(
            {
                "recipe": self.recipe.to_json(),
                "cases": [c.to_json() for c in self.cases],
                "repetitions": self.repetitions,
                "concurrency": self.concurrency,
                "use_judge_cache": self.use_judge_cache,
            }
        )
        if self.dataset is not None:
            data["dataset"] = self.dataset
        if self.experiment is not None:
            data["experiment"] = self.experiment
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSnapshot:
        """A snapshot from `RunRow.snapshot`."""
        return cls(
            instance=data["instance"],
            recipe=RunRecipe.from_json(data.get("recipe") or {}),
            cases=tuple(CaseSpec.from_json(c) for c in data["cases"]),
            repetitions=int(data.get("repetitions", 1)),
            concurrency=int(data.get("concurrency", 50)),
            instance_kind=data.get("instance_kind"),
            concurrency_limits=data.get("concurrency_limits"),
            use_judge_cache=bool(data.get("use_judge_cache", True)),
            dataset=data.get("dataset"),
            experiment=data.get("experiment"),
        )


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The result of one case and repetition of a run, as the engine hands it to the writer."""

    id: uuid.UUID
    run_id: uuid.UUID
    suite_id: uuid.UUID
    environment_id: uuid.UUID
    test_case_id: uuid.UUID
    repetition: int
    created_at: datetime
    status: ResultStatus
    score: float | None = None
    score_reason: str | None = None
    agent_response: str | None = None
    tool_calls_made: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    tokens_used: int | None = None
    judge_tokens: int = 0
    evaluator_results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    transcript: dict[str, Any] | None = None
    """A conversation case's transcript (`domain/transcripts.py`); None for a one-turn case."""

    def to_row(self) -> dict[str, Any]:
        """The result's column values (a new result has no overrides)."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "suite_id": self.suite_id,
            "environment_id": self.environment_id,
            "test_case_id": self.test_case_id,
            "repetition": self.repetition,
            "created_at": self.created_at,
            "judge_tokens": self.judge_tokens,
            "overrides": [],
            "original_score": None,
            "status": self.status.value,
            "score": self.score,
            "score_reason": self.score_reason,
            "agent_response": self.agent_response,
            "tool_calls_made": self.tool_calls_made,
            "latency_ms": self.latency_ms,
            "tokens_used": self.tokens_used,
            "evaluator_results": self.evaluator_results,
            "error": self.error,
            "transcript": self.transcript,
        }
