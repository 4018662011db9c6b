"""A simulated user: an LLM (or, in local runs, a Python callable) that plays the user of a conversation case.

After every agent reply the simulator reads the conversation and answers `{goal_met, message}`: whether the
agent has reached the user's goal, and otherwise the user's next message. It asks at temperature 0 with the
case's seed through the judges' structured-output chain, and records every answer (its transcript).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from assay.concurrency import with_timeout
from assay.domain.conversations import SimulatedUser
from assay.domain.messages import content_text
from assay.engine.runs.case_evaluators import JUDGE_RETRY, JudgeEndpoint
from assay.evaluators.structured_judge import JudgeError, ask_structured
from assay.providers import ProviderRegistry
from assay.trusted_code import load_callable, trusted_code_enabled

SIMULATOR_SYSTEM = """You play the user in a conversation with an AI assistant, to test the assistant.

Your goal: {goal}
{persona}
Stay in character: write as this user would, briefly, one message at a time, and never say that you are \
simulated or testing. Read the conversation so far. If the assistant has fully achieved your goal, answer \
goal_met=true and an empty message. Otherwise answer goal_met=false and your next message to the assistant."""

SIMULATOR_MAX_TOKENS = 512


class SimulatorAnswer(BaseModel):
    """What the simulator decides after an agent reply."""

    goal_met: bool
    message: str = Field(default="")


class SimulatorError(Exception):
    """The simulated user could not answer (its model failed, or its callable raised)."""


@dataclass(slots=True)
class UserSimulator:
    """Plays one case's simulated user; `record` is its transcript."""

    config: SimulatedUser
    endpoint: JudgeEndpoint | None
    secret_key: str
    registry: ProviderRegistry
    record: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0

    @property
    def system_prompt(self) -> str:
        persona = f"Who you are: {self.config.persona}" if self.config.persona else ""
        return SIMULATOR_SYSTEM.format(goal=self.config.goal, persona=persona)

    async def next_turn(self, messages: list[dict[str, Any]], turn: int) -> SimulatorAnswer:
        """The simulator's answer after the agent's reply to user turn `turn` (1-based)."""
        if self.config.callable:
            answer = await self._call_python(messages)
            self.record.append({"turn": turn, **answer.model_dump()})
            return answer
        if self.endpoint is None:
            raise SimulatorError("the simulated user has no model")
        user = "Conversation so far:\n\n" + render_for_user(messages) + "\n\nYour answer?"
        try:
            result = await ask_structured(
                self.endpoint.endpoint(self.secret_key),
                self.system_prompt,
                user,
                SimulatorAnswer,
                registry=self.registry,
                retry=JUDGE_RETRY,
                use_cache=False,
                max_tokens=SIMULATOR_MAX_TOKENS,
                seed=self.config.seed,
            )
        except JudgeError as exc:
            raise SimulatorError(f"{exc.message} ({exc.error_type})") from None
        answer = SimulatorAnswer.model_validate(result.value.model_dump())
        used = result.input_tokens + result.output_tokens
        self.tokens += used
        self.record.append({"turn": turn, **answer.model_dump(), "tokens": used})
        return answer

    async def _call_python(self, messages: list[dict[str, Any]]) -> SimulatorAnswer:
        if not trusted_code_enabled():
            raise SimulatorError("a simulated user's callable runs only under `assay run` (trusted local code)")
        try:
            fn = load_callable(str(self.config.callable))
            value = fn(self.config.goal, self.config.persona, list(messages))
            if inspect.isawaitable(value):
                value = await with_timeout(value, 30)
        except Exception as exc:  # noqa: BLE001 - the callable's own failure
            raise SimulatorError(f"{self.config.callable} raised {type(exc).__name__}: {exc}") from None
        if isinstance(value, str):
            return SimulatorAnswer(goal_met=False, message=value)
        if isinstance(value, dict):
            return SimulatorAnswer.model_validate(value)
        raise SimulatorError(f"{self.config.callable} must return a string or {{goal_met, message}}")

    def transcript(self, stopped: str, goal_met: bool) -> dict[str, Any]:
        """What the result keeps of the simulator."""
        return {
            "goal": self.config.goal,
            "persona": self.config.persona,
            "model": None if self.endpoint is None else f"{self.endpoint.provider}/{self.endpoint.model}",
            "callable": self.config.callable,
            "seed": self.config.seed,
            "system_prompt": None if self.config.callable else self.system_prompt,
            "stopped": stopped,
            "goal_met": goal_met,
            "answers": self.record,
            "tokens": self.tokens,
        }


def render_for_user(messages: list[dict[str, Any]]) -> str:
    """The conversation as the user saw it: user and assistant text, tools left out."""
    lines = []
    for message in messages:
        role = message.get("role")
        text = content_text(message.get("content"))
        if role in ("user", "assistant") and text:
            lines.append(f"{'You' if role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines) or "(nothing yet)"
