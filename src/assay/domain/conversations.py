"""Conversation cases: prior turns, scripted user turns, a simulated user and tool mocks, as a case declares them.

A case's conversation fields (`messages`, `user_turns`, `simulated_user`, `tool_mocks`, `max_steps`) are
validated by `ConversationSpec` and stored together as one JSON object (`conversation_fields` gives the
stored form; `None` for a plain one-turn case). `input_message` stays the first user turn that is sent:
`messages` are the turns before it, `user_turns` the ones sent after it, one after another; a simulated
user instead writes every turn after the first.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant", "tool"]
StopRule = Literal["goal_met", "handoff", "turn_limit"]

CONVERSATION_FIELDS = ("messages", "user_turns", "simulated_user", "tool_mocks", "max_steps")
"""The test-case fields that make a case a conversation."""

DEFAULT_MAX_STEPS = 8
"""Model calls allowed for one user turn when the agent loops through mocked tools."""

ALL_STOP_RULES: tuple[StopRule, ...] = ("goal_met", "handoff", "turn_limit")

DEFAULT_HANDOFF_TOOLS = ("handoff_to_human", "transfer_to_human", "escalate_to_human")


class ChatMessage(BaseModel):
    """One message in the OpenAI chat format."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = Field(default=None, max_length=200)
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _shape(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs tool_call_id")
        if self.role in ("system", "user") and not self.content:
            raise ValueError(f"a {self.role} message needs content")
        if self.tool_calls is not None and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        return self


class JudgeModelRef(BaseModel):
    """Which model plays the user (as a judge's `model`); omitted: the server's judge model."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=50)
    model: str = Field(min_length=1, max_length=100)
    provider_key_id: str | None = None
    base_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s/]+")


class SimulatedUser(BaseModel):
    """An LLM playing the user: it pursues `goal` as `persona` until a stop rule holds."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=1, max_length=10_000)
    persona: str | None = Field(default=None, max_length=10_000)
    max_turns: int = Field(default=5, ge=1, le=50)
    """User turns at most, the first one (`input_message`) included."""
    stop_on: list[StopRule] = Field(default_factory=lambda: list(ALL_STOP_RULES))
    """`goal_met`: the simulator judges the goal reached; `handoff`: the agent hands off (a handoff tool or
    phrase); `turn_limit`: `max_turns` reached (always applies)."""
    handoff_tools: list[str] = Field(default_factory=lambda: list(DEFAULT_HANDOFF_TOOLS))
    handoff_phrases: list[str] = Field(default_factory=list)
    model: JudgeModelRef | None = None
    seed: int = 0
    """Sent to the provider with temperature 0, so runs repeat where the provider allows."""
    callable: str | None = Field(default=None, pattern=r"^[\w.]+:[\w.]+$")
    """A local `module:function` playing the user instead of an LLM (local runs only, like python instances)."""

    @field_validator("stop_on")
    @classmethod
    def _stop_on(cls, value: list[StopRule]) -> list[StopRule]:
        return sorted(set(value), key=ALL_STOP_RULES.index)


class ToolMock(BaseModel):
    """What a tool returns in this case: for calls of `tool` whose arguments include `arguments`
    (omitted: any call of the tool, the tool's default)."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] | None = None
    result: Any = Field(description="The tool's output: a string, or JSON sent as its text.")


class ConversationSpec(BaseModel):
    """The conversation fields of a case (every one optional)."""

    model_config = ConfigDict(extra="forbid")

    messages: list[ChatMessage] | None = Field(default=None, max_length=500)
    user_turns: list[str] | None = Field(default=None, max_length=100)
    simulated_user: SimulatedUser | None = None
    tool_mocks: list[ToolMock] | None = Field(default=None, max_length=500)
    max_steps: int | None = Field(default=None, ge=1, le=50)

    @field_validator("user_turns")
    @classmethod
    def _turns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not turn.strip() for turn in value):
            raise ValueError("every user turn needs text")
        return value

    @model_validator(mode="after")
    def _exclusive(self) -> ConversationSpec:
        if self.user_turns and self.simulated_user is not None:
            raise ValueError("give user_turns or simulated_user, not both")
        return self

    @property
    def steps_limit(self) -> int:
        """Model calls allowed per user turn."""
        return self.max_steps or DEFAULT_MAX_STEPS


def conversation_fields(data: dict[str, Any]) -> dict[str, Any] | None:
    """The stored form of a case's conversation fields (those set, validated), or None for a one-turn case.

    Raises `pydantic.ValidationError` naming the field."""
    given = {name: data[name] for name in CONVERSATION_FIELDS if data.get(name) is not None}
    if not given:
        return None
    spec = ConversationSpec.model_validate(given)
    return spec.model_dump(mode="json", exclude_none=True, exclude_unset=False) or None


def parse_conversation(stored: dict[str, Any] | None) -> ConversationSpec | None:
    """A stored conversation back as a spec (None stays None); a snapshot's resolved simulator endpoint is
    left out (the engine reads it from the stored form)."""
    if not stored:
        return None
    user = stored.get("simulated_user")
    if isinstance(user, dict) and "endpoint" in user:
        stored = {**stored, "simulated_user": {k: v for k, v in user.items() if k != "endpoint"}}
    return ConversationSpec.model_validate(stored)


def mock_result(mocks: list[ToolMock], name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """(found, result) for one tool call: the first mock of that tool whose `arguments` are a subset of the
    call's wins; a mock without `arguments` is the tool's default, used when no argument match does."""
    default: ToolMock | None = None
    for mock in mocks:
        if mock.tool != name:
            continue
        if mock.arguments is None:
            default = default or mock
        elif _subset(mock.arguments, arguments):
            return True, mock.result
    return (True, default.result) if default is not None else (False, None)


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(key in actual and _subset(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    return bool(expected == actual)
