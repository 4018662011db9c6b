"""The `python` instance kind: a trusted local callable (`"module:function"`), for `assay run` only.

The callable receives the input message, and the case fields (`expected_behavior`, `tags`, `metadata`) as a
second argument when it accepts one. It may be sync (run in a worker thread) or async, and returns a string
or `{"text": str, "tool_calls": [{"name", "arguments"}], "tokens": int}`. It runs under `timeout_s`; any
exception, a timeout or a malformed reply becomes an `InstanceError`.

Running local code is refused unless the process opted in with `enable_python_instances()`: the `assay run`
command does, `assay serve` never does, so a stored python instance never executes inside the server.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assay.concurrency import with_timeout
from assay.domain.outcomes import ToolCall
from assay.targets.types import InstanceError, InstanceReply

_state = {"enabled": False}


def enable_python_instances(enabled: bool = True) -> None:
    """Allow this process to run `python` instances (trusted local code)."""
    _state["enabled"] = enabled


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
        module, sep, name = value.strip().partition(":")
        if (
            not sep
            or not module
            or not name
            or not all(p.isidentifier() for p in [*module.split("."), *name.split(".")])
        ):
            raise ValueError("callable must look like 'package.module:function'")
        return value.strip()

    def reveal(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def secret_values(self) -> list[str]:
        return []


def python_instances_enabled() -> bool:
    """Whether this process runs local Python code (`assay run` only)."""
    return bool(_state["enabled"])


def load_callable(target: str) -> Callable[..., Any]:
    """Import `module:function` (attributes may be dotted); raise `InstanceError` when it cannot."""
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # noqa: BLE001 - any import failure is the instance's error
        raise InstanceError(f"cannot load {target}: {type(exc).__name__}: {exc}", kind="not_found") from None
    if not callable(obj):
        raise InstanceError(f"{target} is not callable", kind="not_found")
    return obj  # type: ignore[no-any-return]


def _wants_case(fn: Callable[..., Any]) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _tool_call(raw: Any) -> ToolCall:
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
    if not isinstance(value, dict):
        raise InstanceError(
            f"the callable must return a string or a dict with 'text', got {type(value).__name__}",
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
    if not _state["enabled"]:
        raise InstanceError(
            "python instances run only under `assay run` (trusted local code), not in the server", kind="permission"
        )
    fn = load_callable(spec.callable)
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
