"""The `python` instance kind: a trusted local callable (`"module:function"`), for `assay run` only.

The callable receives the input message, and the case fields (`expected_behavior`, `tags`, `metadata`) as a
second argument when it accepts one. It may be sync (run in a worker thread) or async, and returns a string
an `AgentOutput`, or `{"text": str, "tool_calls": [{"name", "arguments"}], "tokens": int}`. It runs under `timeout_s`; any
exception, a timeout or a malformed reply becomes an `InstanceError`.

Running local code is refused unless the process opted in with `assay.trusted_code.enable_trusted_code()`:
`assay run` and `assay.evals` do, `assay serve` never does, so a stored python instance never executes inside
the server.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.concurrency import with_timeout
from assay.domain.outcomes import ToolCall
from assay.targets.types import InstanceError, InstanceReply
from assay.trusted_code import CallableNotFound, check_target, load_callable, takes_positional, trusted_code_enabled


class PythonSpec(BaseModel):
    """A local Python callable as the agent under test."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    kind: Literal["python"] = "python"
    callable: str = Field(description="`package.module:function`")
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    max_concurrency: int = Field(default=8, ge=1, le=1024)

    @field_validator("callable")
    @classmethod
    def _target(cls, value: str) -> str:
        try:
            return check_target(value)
        except ValueError:
            raise ValueError("callable must look like 'package.module:function'") from None

    def reveal(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def secret_values(self) -> list[str]:
        return []


@dataclass(slots=True)
class AgentOutput:
    """A reply richer than text: the tool calls the agent made (`ToolCall`s or `{name, arguments}` dicts) and
    the tokens it used."""

    text: str
    tool_calls: list[ToolCall | dict[str, Any]] = field(default_factory=list)
    tokens: int | None = None


def _agent(target: str) -> Callable[..., Any]:
    try:
        return load_callable(target)
    except CallableNotFound as exc:
        raise InstanceError(str(exc), kind="not_found") from None


def _wants_case(fn: Callable[..., Any]) -> bool:
    return takes_positional(fn, 2)


def _tool_call(raw: Any) -> ToolCall:
    if isinstance(raw, ToolCall):
        return ToolCall(name=raw.name, arguments=dict(raw.arguments))
    if not isinstance(raw, dict):
        raise InstanceError(f"a tool call must be an object, got {type(raw).__name__}", kind="invalid_response")
    fn = raw.get("function") if isinstance(raw.get("function"), dict) else raw
    args = fn.get("arguments") or {}
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            args = {"<unparsed>": args}
    if not isinstance(args, dict):
        args = {"<value>": args}
    return ToolCall(name=str(fn.get("name", "")), arguments=args)


def to_reply(value: Any, latency_ms: float) -> InstanceReply:
    """A callable's return value as an `InstanceReply`."""
    if isinstance(value, str):
        return InstanceReply(text=value, latency_ms=latency_ms)
    if isinstance(value, AgentOutput):
        value = {"text": value.text, "tool_calls": value.tool_calls, "tokens": value.tokens}
    if not isinstance(value, dict):
        raise InstanceError(
            f"the callable must return a string, an AgentOutput or a dict with 'text', got {type(value).__name__}",
            kind="invalid_response",
        )
    text = value.get("text")
    if text is None:
        text = ""
    calls = value.get("tool_calls") or []
    if not isinstance(calls, list):
        raise InstanceError("'tool_calls' must be a list", kind="invalid_response")
    tokens = value.get("tokens")
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool)):
        raise InstanceError("'tokens' must be an integer", kind="invalid_response")
    return InstanceReply(
        text=str(text), tool_calls=[_tool_call(c) for c in calls], tokens=tokens, latency_ms=latency_ms
    )


async def call_python(spec: PythonSpec, input_message: str, case_fields: dict[str, Any]) -> InstanceReply:
    """Call the spec's callable with one case (see the module doc)."""
    if not trusted_code_enabled():
        raise InstanceError(
            "python instances run only under `assay run` (trusted local code), not in the server", kind="permission"
        )
    fn = _agent(spec.callable)
    args: tuple[Any, ...] = (input_message, dict(case_fields)) if _wants_case(fn) else (input_message,)
    start = time.perf_counter()
    try:
        if inspect.iscoroutinefunction(fn):
            value = await with_timeout(fn(*args), spec.timeout_s)
        else:
            value = await with_timeout(asyncio.to_thread(fn, *args), spec.timeout_s)
            if inspect.isawaitable(value):
                value = await with_timeout(value, spec.timeout_s)
    except TimeoutError:
        raise InstanceError(f"{spec.callable} did not return within {spec.timeout_s:g}s", kind="timeout") from None
    except InstanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - the agent's own failure
        raise InstanceError(f"{spec.callable} raised {type(exc).__name__}: {exc}", kind="python_error") from None
    return to_reply(value, (time.perf_counter() - start) * 1000)
