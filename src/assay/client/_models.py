"""Typed answers of both API surfaces. Unknown fields are kept (`extra="allow"`), so newer servers still parse."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Dataset",
    "DatasetItem",
    "Evaluation",
    "EvaluationRun",
    "EvaluationRunStarted",
    "Event",
    "IngestResult",
    "Instance",
    "ModelConfiguration",
    "Page",
    "ProviderKey",
    "Recipe",
    "RecipeItem",
    "Result",
    "ScoreOverrideEntry",
    "Suite",
    "Task",
    "TaskProgress",
    "TestCase",
    "TestHogResponse",
    "TestHogResult",
    "UserBasic",
]

T = TypeVar("T")

TERMINAL_TASK_STATUSES = frozenset({"completed", "failed", "cancelled"})


class AssayModel(BaseModel):
    """Base of every answer model."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Page(AssayModel, Generic[T]):
    """One page of a `{count, next, previous, results}` list."""

    count: int
    next: str | None = None
    previous: str | None = None
    results: list[T]


# LLM analytics ------------------------------------------------------------------------------------------


class UserBasic(AssayModel):
    """Who created an object (the API key, presented as a user)."""

    id: str
    uuid: str
    distinct_id: str
    first_name: str
    last_name: str = ""
    email: str = ""


class Dataset(AssayModel):
    """A dataset (`/api/environments/{id}/datasets`)."""

    id: str
    name: str
    description: str | None = None
    metadata: Any = None
    created_at: datetime
    updated_at: datetime | None = None
    deleted: bool | None = None
    created_by: UserBasic | None = None
    team: str


class DatasetItem(AssayModel):
    """One item of a dataset."""

    id: str
    dataset: str
    input: Any = None
    output: Any = None
    metadata: Any = None
    ref_trace_id: str | None = None
    ref_timestamp: str | None = None
    ref_source_id: str | None = None
    deleted: bool | None = None
    created_at: datetime
    updated_at: datetime | None = None
    created_by: UserBasic | None = None
    team: str


class ModelConfiguration(AssayModel):
    """The judge model of an `llm_judge` evaluation."""

    provider: str
    model: str
    provider_key_id: str | None = None
    provider_key_name: str | None = None


class Evaluation(AssayModel):
    """An evaluator definition (LLM analytics `evaluations`): `llm_judge` or `hog`, run online on events."""

    id: str
    name: str
    description: str = ""
    enabled: bool
    evaluation_type: str
    evaluation_config: dict[str, Any]
    output_type: str
    output_config: dict[str, Any]
    conditions: list[Any]
    model_configuration: ModelConfiguration | None = None
    created_at: datetime
    updated_at: datetime | None = None
    created_by: UserBasic | None = None
    deleted: bool


class TestHogResult(AssayModel):
    """The outcome of Hog code on one sample event."""

    __test__ = False

    event_uuid: str
    trace_id: str | None = None
    input_preview: str
    output_preview: str
    result: bool | None = None
    reasoning: str
    error: str | None = None


class TestHogResponse(AssayModel):
    """`evaluations/test_hog`: results per sample event, or a message when there were none."""

    __test__ = False

    results: list[TestHogResult]
    message: str | None = None


class EvaluationRef(AssayModel):
    id: str
    name: str


class EvaluationRunStarted(AssayModel):
    """A queued manual evaluation run."""

    workflow_id: str
    status: str
    evaluation: EvaluationRef
    target_event_id: str


class EvaluationRun(AssayModel):
    """A manual evaluation run: `queued`, `running`, `completed`, `failed` or `skipped`."""

    workflow_id: str
    status: str
    evaluation_id: str
    target_event_id: str
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Event(AssayModel):
    """A stored event (`id` equals `uuid`)."""

    id: str
    uuid: str
    event: str
    distinct_id: str
    timestamp: datetime
    properties: dict[str, Any]
    trace_id: str | None = None
    created_at: datetime


class RejectedEvent(AssayModel):
    index: int
    reason: str


class EventWarnings(AssayModel):
    index: int
    warnings: list[str]


class IngestResult(AssayModel):
    """`accepted` valid events, of which `stored` were new; `rejected` ones carry their index and reason."""

    accepted: int
    stored: int
    duplicates: int
    rejected: list[RejectedEvent]
    warnings: list[EventWarnings]


class ProviderKey(AssayModel):
    """A stored LLM provider key (the secret is never returned, only `api_key_mask`)."""

    id: str
    provider: str
    name: str
    state: str
    error_message: str | None = None
    base_url: str | None = None
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    api_key_mask: str | None = None
    created_at: datetime
    last_used_at: datetime | None = None


# Agent evaluations --------------------------------------------------------------------------------------


class Suite(AssayModel):
    """An agent evaluation suite (`/v1/evaluations`)."""

    id: str
    tenant_id: str
    name: str
    description: str | None = None
    instance_id: str | None = None
    recipe_id: str | None = None
    config: dict[str, Any]
    results_summary: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime | None = None


class TestCase(AssayModel):
    """A test case of a suite."""

    __test__ = False

    id: str
    evaluation_id: str
    input_message: str
    expected_behavior: str | None = None
    expected_tool_calls: list[dict[str, Any]] | None = None
    sort_order: int
    tags: list[Any]
    created_at: datetime
    messages: list[dict[str, Any]] | None = None
    """The turns before `input_message` (OpenAI chat format)."""
    user_turns: list[str] | None = None
    """User turns sent after `input_message`, one after another."""
    simulated_user: dict[str, Any] | None = None
    """An LLM playing the user: `goal`, `persona`, `max_turns`, `stop_on`, …"""
    tool_mocks: list[dict[str, Any]] | None = None
    """Tool results for the agent loop: `{tool, arguments?, result}`."""
    max_steps: int | None = None
    """Model calls per user turn in the tool loop."""


class Instance(AssayModel):
    """An agent under test (`openai_chat` or `http`); secrets in `config` come back as `"********"`."""

    id: str
    tenant_id: str
    name: str
    kind: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime | None = None


class RecipeItem(AssayModel):
    """One weighted evaluator of a recipe: a built-in check or judge (object) or a stored evaluation id."""

    evaluator: str | dict[str, Any]
    weight: float = 1.0
    required: bool = False
    cases_tagged: list[str] | None = None


class Recipe(AssayModel):
    """How a suite's cases are scored: weighted evaluators and a pass mark (0-100)."""

    id: str
    tenant_id: str
    name: str
    description: str | None = None
    items: list[RecipeItem]
    pass_threshold: float
    created_at: datetime
    updated_at: datetime | None = None


class RunStarted(AssayModel):
    """The answer of `POST /v1/evaluations/{id}/run`."""

    status: str
    task_id: str


class TaskProgress(AssayModel):
    total: int
    completed: int
    errors: int


class Task(AssayModel):
    """A run of a suite: `queued`, `running`, `completed`, `failed` or `cancelled`."""

    task_id: str
    evaluation_id: str
    status: str
    progress: TaskProgress
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    error: str | None = None
    summary: dict[str, Any]

    @property
    def done(self) -> bool:
        """Whether the task has ended (completed, failed or cancelled)."""
        return self.status in TERMINAL_TASK_STATUSES


class ScoreOverrideEntry(AssayModel):
    """One manual change of a result's score."""

    score: float
    previous_score: float | None = None
    reason: str | None = None
    by: str
    at: datetime


class Result(AssayModel):
    """The result of one test case (and repetition) in one run."""

    id: str
    evaluation_id: str
    test_case_id: str
    task_id: str
    repetition: int = 0
    status: str
    score: float | None = None
    score_reason: str | None = None
    agent_response: str | None = None
    latency_ms: int | None = None
    tokens_used: int | None = None
    judge_tokens: int = 0
    tool_calls_made: list[dict[str, Any]]
    evaluator_results: list[dict[str, Any]] = []
    error: str | None = None
    original_score: float | None = None
    overrides: list[ScoreOverrideEntry] = []
    created_at: datetime
    transcript: dict[str, Any] | None = None
    """A conversation case's turns (each with latency, tokens and tool calls), messages, simulator record
    and metrics; None for a one-turn case."""

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The transcript's turns (empty for a one-turn case)."""
        turns = (self.transcript or {}).get("turns")
        return turns if isinstance(turns, list) else []
