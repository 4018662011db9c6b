"""The agent under test for `evaluate`: a Python callable, `module:function`, or an instance config.

A callable runs as the `python` instance kind (`targets/python_target.py`): it gets the case's input (and,
when it takes a second argument, the case's fields: `expected_behavior`, `tags`, `metadata`), may be sync or
async, and returns the reply text, an `AgentOutput`, or a dict `{"text", "tool_calls", "tokens"}`. An
instance config is what a suite file's `instance:` holds: `{"kind": "openai_chat", "base_url", "model", ...}`
or `{"kind": "http", "url", ...}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from assay.targets.spec import parse_spec
from assay.trusted_code import register_callable

AgentLike = Callable[..., Any] | str | Mapping[str, Any]
"""What `evaluate(agent=...)` takes."""


def instance_config(agent: AgentLike, *, timeout_s: float = 60.0) -> dict[str, Any]:
    """The instance config (as a suite file's `instance:`) for `agent`; ValueError when it is not one."""
    if isinstance(agent, str):
        config: dict[str, Any] = {"kind": "python", "callable": agent, "timeout_s": timeout_s}
    elif isinstance(agent, Mapping):
        config = dict(agent)
    elif callable(agent):
        config = {"kind": "python", "callable": register_callable(agent), "timeout_s": timeout_s}
    else:
        raise TypeError(f"an agent is a callable, 'module:function' or an instance config; got {type(agent).__name__}")
    try:
        parse_spec(config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise ValueError(f"invalid agent: {problems}") from None
    return config
