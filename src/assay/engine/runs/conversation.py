"""Running a conversation case: prior turns, then each user turn (scripted or simulated) answered by the agent,
looping through mocked tools up to the step limit, everything recorded in a `Transcript`.

Stops with an error (kept on the transcript) when the agent call fails, when the agent calls a tool the case
mocks no result for, when it is still calling tools after `max_steps` model calls, or when the simulated user
fails. A simulated user stops the conversation when its goal is met, when the agent hands off, or at its turn
limit (whichever of its `stop_on` rules holds first).
"""

from __future__ import annotations

from typing import Any

import orjson

from assay.domain.conversations import ConversationSpec, SimulatedUser, mock_result, parse_conversation
from assay.domain.runs import CaseSpec
from assay.domain.transcripts import Transcript, TurnRecord, TurnSource
from assay.engine.runs.case_evaluators import JudgeEndpoint
from assay.engine.runs.simulated_user import SimulatorError, UserSimulator
from assay.providers import ProviderRegistry
from assay.targets.call import InstanceError, InstanceReply, call_instance


class _Stop(Exception):
    """The conversation cannot go on; `reason` is the transcript's stop reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


async def run_conversation(case: CaseSpec, spec: Any, *, registry: ProviderRegistry, secret_key: str) -> Transcript:
    """Play the case's conversation against the instance (see the module doc); never raises for the agent's
    or the simulator's failures: they end the transcript with `error` set."""
    conv = parse_conversation(case.conversation) or ConversationSpec()
    history = [m.model_dump(mode="json", exclude_none=True) for m in conv.messages or []]
    transcript = Transcript(messages=list(history), prior_messages=len(history))
    fields: dict[str, Any] = {"expected_behavior": case.expected_behavior, "tags": case.tags or []}
    if conv.tool_mocks is not None:
        fields["mocked_tools"] = sorted({m.tool for m in conv.tool_mocks})
    user = conv.simulated_user
    simulator = _simulator(user, (case.conversation or {}).get("simulated_user"), secret_key, registry)
    scripted = list(conv.user_turns or [])
    limit = user.max_turns if user is not None else 1 + len(scripted)
    text, source = case.input_message, "input"
    try:
        for index in range(limit):
            turn = TurnRecord(index=index, source=_source(source), user=text)
            transcript.turns.append(turn)
            transcript.messages.append({"role": "user", "content": text})
            await _answer(spec, transcript, turn, conv, fields, registry)
            if user is None or simulator is None:
                if index < len(scripted):
                    text, source = scripted[index], "scripted"
                continue
            if "handoff" in user.stop_on and _handed_off(turn, user):
                transcript.stop_reason = "handoff"
                break
            if index + 1 >= user.max_turns:
                transcript.stop_reason = "turn_limit"
                break
            try:
                answer = await simulator.next_turn(transcript.messages, index + 1)
            except SimulatorError as exc:
                raise _Stop("error", f"The simulated user failed: {exc}") from None
            if answer.goal_met and transcript.goal_met_at is None:
                transcript.goal_met_at = index + 1
            if answer.goal_met and "goal_met" in user.stop_on:
                transcript.stop_reason = "goal_met"
                break
            if not answer.message.strip():
                raise _Stop("error", "The simulated user gave no message and did not judge its goal met.")
            text, source = answer.message, "simulated"
    except _Stop as stop:
        transcript.stop_reason = stop.reason  # type: ignore[assignment]
        transcript.error = stop.message
    if simulator is not None:
        transcript.simulator = simulator.transcript(transcript.stop_reason, transcript.goal_met_at is not None)
    return transcript


def _source(value: str) -> TurnSource:
    return "simulated" if value == "simulated" else "scripted" if value == "scripted" else "input"


def _simulator(
    user: SimulatedUser | None, stored: dict[str, Any] | None, secret_key: str, registry: ProviderRegistry
) -> UserSimulator | None:
    if user is None:
        return None
    endpoint = (stored or {}).get("endpoint")
    return UserSimulator(
        config=user,
        endpoint=JudgeEndpoint(**endpoint) if endpoint else None,
        secret_key=secret_key,
        registry=registry,
    )


def _handed_off(turn: TurnRecord, user: SimulatedUser) -> bool:
    if any(call["name"] in user.handoff_tools for call in turn.tool_calls):
        return True
    reply = turn.assistant.casefold()
    return any(phrase.casefold() in reply for phrase in user.handoff_phrases if phrase.strip())


def _assistant_message(reply: InstanceReply, turn: int, step: int) -> dict[str, Any]:
    """The reply as an OpenAI assistant message; calls without ids (http, python) get ids of their own."""
    message: dict[str, Any]
    if reply.message is not None:
        message = {k: v for k, v in reply.message.items() if k in ("role", "content", "tool_calls")}
        message.setdefault("role", "assistant")
        return message
    message = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{turn}_{step}_{n}",
                "type": "function",
                "function": {"name": call.name, "arguments": orjson.dumps(call.arguments).decode()},
            }
            for n, call in enumerate(reply.tool_calls)
        ]
    return message


def _call_ids(message: dict[str, Any], count: int) -> list[str]:
    ids = [str(c.get("id") or "") for c in message.get("tool_calls") or []]
    return (ids + [""] * count)[:count]


def _tool_content(result: Any) -> str:
    return result if isinstance(result, str) else orjson.dumps(result).decode()


async def _answer(
    spec: Any,
    transcript: Transcript,
    turn: TurnRecord,
    conv: ConversationSpec,
    fields: dict[str, Any],
    registry: ProviderRegistry,
) -> None:
    """The agent's answer to one user turn: model → tool calls → mocked results → model, up to the limit."""
    limit = conv.steps_limit
    while True:
        if turn.steps >= limit:
            raise _Stop(
                "step_limit",
                f"The agent was still calling tools after {limit} model calls for user turn {turn.index + 1} "
                f"(max_steps {limit}).",
            )
        try:
            reply = await call_instance(spec, turn.user, fields, providers=registry, conversation=transcript.messages)
        except InstanceError as exc:
            raise _Stop("error", str(exc)) from None
        turn.steps += 1
        turn.latency_ms += reply.latency_ms
        if reply.tokens is not None:
            turn.tokens = (turn.tokens or 0) + reply.tokens
        message = _assistant_message(reply, turn.index, turn.steps)
        transcript.messages.append(message)
        turn.assistant = reply.text
        ids = _call_ids(message, len(reply.tool_calls))
        if not reply.tool_calls or conv.tool_mocks is None:
            turn.tool_calls.extend({"id": i, **c.to_dict()} for i, c in zip(ids, reply.tool_calls, strict=True))
            if reply.message is not None and "tool_calls" in message:
                # unanswered calls would make the next chat request invalid: the history keeps the text only
                del message["tool_calls"]
                message["content"] = reply.text
            return
        for call_id, call in zip(ids, reply.tool_calls, strict=True):
            found, result = mock_result(conv.tool_mocks, call.name, call.arguments)
            record: dict[str, Any] = {"id": call_id, **call.to_dict(), "mocked": found}
            turn.tool_calls.append(record)
            if not found:
                mocked = sorted({m.tool for m in conv.tool_mocks}) or ["none"]
                raise _Stop(
                    "unmocked_tool",
                    f"The agent called {call.name}({orjson.dumps(call.arguments).decode()}), which the case mocks "
                    f"no result for (mocked tools: {', '.join(mocked)}).",
                )
            record["result"] = result
            transcript.messages.append({"role": "tool", "tool_call_id": call_id, "content": _tool_content(result)})
