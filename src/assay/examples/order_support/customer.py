"""The demo's simulated customer: a scripted stand-in for an LLM playing the user, so `assay demo` needs no key.

A suite with `ASSAY_JUDGE_MODEL` set can let an LLM play the user instead (omit `callable`).
"""

from __future__ import annotations

import re
from typing import Any

ORDER_ID = re.compile(r"\b([A-Za-z]\d{4})\b")


def reply(goal: str, persona: str | None, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The customer's next move: goal met once the agent says the order has shipped; the order number (taken
    from the goal) once the agent asks for it; otherwise the question again."""
    last = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "assistant"), "")
    lowered = last.lower()
    if "shipped" in lowered or "delivered" in lowered:
        return {"goal_met": True, "message": ""}
    order = ORDER_ID.search(goal)
    if "order number" in lowered and order:
        return {"goal_met": False, "message": f"Oh, sorry. It's {order.group(1)}."}
    return {"goal_met": False, "message": "I just want to know whether my order has shipped."}
