"""Expected and made tool calls side by side: which calls pair up, and which arguments differ.

This is for reading a result, not for scoring it (the tool-call check in `evaluators/checks.py` scores): each
expected call pairs with the first unpaired made call of the same name, in order; what is left over on either
side is missing or unexpected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PairState = Literal["same", "arguments differ", "missing", "unexpected"]


@dataclass(frozen=True, slots=True)
class ToolCallPair:
    """One line of the side-by-side view; `differing` names the argument keys whose values differ."""

    expected: dict[str, Any] | None
    made: dict[str, Any] | None
    state: PairState
    differing: tuple[str, ...]


def _call(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        arguments = raw.get("arguments")
        return {"name": str(raw.get("name", "")), "arguments": arguments if isinstance(arguments, dict) else {}}
    return {"name": str(raw), "arguments": {}}


def pair_tool_calls(expected: Any, made: Any) -> list[ToolCallPair]:
    """Pair expected calls with made ones by name, in order; unpaired made calls come last."""
    wanted = [_call(c) for c in expected] if isinstance(expected, list) else []
    done = [_call(c) for c in made] if isinstance(made, list) else []
    used: set[int] = set()
    pairs: list[ToolCallPair] = []
    for call in wanted:
        index = next((j for j, m in enumerate(done) if j not in used and m["name"] == call["name"]), None)
        if index is None:
            pairs.append(ToolCallPair(call, None, "missing", ()))
            continue
        used.add(index)
        other = done[index]
        keys = sorted(set(call["arguments"]) | set(other["arguments"]))
        differing = tuple(k for k in keys if call["arguments"].get(k) != other["arguments"].get(k))
        pairs.append(ToolCallPair(call, other, "arguments differ" if differing else "same", differing))
    pairs.extend(ToolCallPair(None, m, "unexpected", ()) for j, m in enumerate(done) if j not in used)
    return pairs
