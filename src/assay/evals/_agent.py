"""The agent under test for `evaluate`: a Python callable, `module:function`, or an instance config.

A callable gets the case's input (and, when it takes a second argument, the case's fields:
`expected_behavior`, `tags`, `metadata`), may be sync or async, and returns the reply text, an
`AgentOutput`, or a dict `{"text", "tool_calls", "tokens"}`. An instance config is what a suite file's
`instance:` holds: `{"kind": "openai_chat", "base_url", "model", ...}` or `{"kind": "http", "url", ...}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assay.domain.outcomes import ToolCall
from assay.targets.spec import parse_spec
from assay.trusted_code import is_async_callable, register_callable, takes_positional

AgentLike = Callable[..., Any] | str | Mapping[str, Any]
"""What `evaluate(agent=...)` takes."""


@dataclass(slots=True)
class AgentOutput:
    """A richer reply than text: the tool calls the agent made and the tokens it used."""

    text: str
    tool_calls: list[ToolCall | dict[str, Any]] = field(default_factory=list)
    tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        calls = [c.to_dict() if isinstance(c, ToolCall) else dict(c) for c in self.tool_calls]
        return {"text": self.text, "tool_calls": calls, "tokens": self.tokens}


def _reply(value: Any) -> Any:
    if isinstance(value, AgentOutput):
        return value.to_dict()
    if isinstance(value, dict) and any(isinstance(c, ToolCall) for c in value.get("tool_calls") or []):
        calls = [c.to_dict() if isinstance(c, ToolCall) else c for c in value["tool_calls"]]
        return {**value, "tool_calls": calls}
    return value


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` as the `python` instance kind calls it: `(input, case_fields)`, replies as plain data."""
    wants_case = takes_positional(fn, 2)

    if is_async_callable(fn):

        async def call_async(input_message: str, case: dict[str, Any]) -> Any:
            return _reply(await (fn(input_message, case) if wants_case else fn(input_message)))

        call_async.__name__ = call_async.__qualname__ = getattr(fn, "__name__", "agent")
        return call_async

    def call(input_message: str, case: dict[str, Any]) -> Any:
        return _reply(fn(input_message, case) if wants_case else fn(input_message))

    call.__name__ = call.__qualname__ = getattr(fn, "__name__", "agent")
    call.__module__ = getattr(fn, "__module__", None) or "local"
    return call


def instance_config(agent: AgentLike, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """The instance config (as a suite file's `instance:`) for `agent`; ValueError when it is not one."""
    if isinstance(agent, str):
        config: dict[str, Any] = {"kind": "python", "callable": agent, "timeout_s": timeout_s}
    elif isinstance(agent, Mapping):
        config = dict(agent)
    elif callable(agent):
        wrapped = _wrap(agent)
        wrapped.__module__ = getattr(agent, "__module__", None) or "local"
        config = {"kind": "python", "callable": register_callable(wrapped), "timeout_s": timeout_s}
    else:
        raise TypeError(f"an agent is a callable, 'module:function' or an instance config; got {type(agent).__name__}")
    try:
        parse_spec(config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise ValueError(f"invalid agent: {problems}") from None
    return config
