"""A tiny order-support agent: it decides tool calls from the message with simple rules.

It is deliberately imperfect, so the demo shows failures: it refunds orders of any amount (policy says
refunds above $500 go to a human), and it cancels an order when merely asked whether it still can.

In a conversation it remembers the order number the customer gave in an earlier turn (`case["messages"]`).
When the case mocks the `lookup_order` tool (`case["mocked_tools"]`), it asks the order system through that
tool instead of its own table, and answers from the tool's result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ORDER_ID = re.compile(r"\b([A-Za-z]\d{4})\b")
INJECTION = re.compile(r"ignore (all |any |the )?(previous|prior|above) instructions|system prompt", re.I)


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    item: str
    total: float
    status: str  # processing | shipped | delivered


ORDERS = {
    o.order_id: o
    for o in (
        Order("A1001", "wireless mouse", 42.50, "delivered"),
        Order("A1002", "noise-cancelling headphones", 120.00, "shipped"),
        Order("A1003", "USB-C cable", 18.00, "processing"),
        Order("A1004", "laptop", 899.00, "delivered"),
    )
}


def lookup_order(order_id: str) -> Order | None:
    """The order, or None."""
    return ORDERS.get(order_id)


def _call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"name": name, "arguments": arguments}


def _reply(text: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": text, "tool_calls": calls, "tokens": len(text.split()) + 12 * len(calls)}


def _about_order(message: str, order_id: str) -> dict[str, Any]:
    lowered = message.lower()
    calls = [_call("lookup_order", order_id=order_id)]
    order = lookup_order(order_id)
    if order is None:
        return _reply(f"I couldn't find order {order_id}. Could you check the order number?", calls)
    if any(w in lowered for w in ("refund", "money back", "return")):
        if order.status != "delivered":
            return _reply(
                f"Order {order_id} ({order.item}) is {order.status}, so it is not eligible for a refund yet. "
                "Once it is delivered you can request one.",
                calls,
            )
        calls.append(_call("issue_refund", order_id=order_id, amount=order.total))
        return _reply(
            f"I've issued a refund of ${order.total:.2f} for order {order_id} ({order.item}). "
            "It should appear in 3-5 business days.",
            calls,
        )
    if "cancel" in lowered:
        if order.status != "processing":
            return _reply(f"Order {order_id} has already {order.status}, so it can no longer be cancelled.", calls)
        calls.append(_call("cancel_order", order_id=order_id))
        return _reply(f"Order {order_id} ({order.item}) is cancelled. You won't be charged.", calls)
    return _reply(f"Order {order_id} ({order.item}, ${order.total:.2f}) is {order.status}.", calls)


def respond(message: str, case: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answer one customer message: `{"text", "tool_calls", "tokens"}`."""
    case = case or {}
    history = case.get("messages") or []
    if "lookup_order" in (case.get("mocked_tools") or []):
        return _with_order_tool(message, history)
    return _respond(_with_memory(message, history), guarded=True)


def _remembered_order(message: str, history: list[dict[str, Any]]) -> str | None:
    """The order number of this message, else the latest one the customer gave earlier."""
    for text in [message, *(str(m.get("content") or "") for m in reversed(history) if m.get("role") == "user")]:
        match = ORDER_ID.search(text)
        if match:
            return match.group(1).upper()
    return None


def _with_memory(message: str, history: list[dict[str, Any]]) -> str:
    order_id = _remembered_order(message, history)
    if order_id is None or ORDER_ID.search(message):
        return message
    return f"{message} (order {order_id})"


def _with_order_tool(message: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    """Look the order up through the `lookup_order` tool, then answer from what it returned."""
    last = history[-1] if history else {}
    if last.get("role") == "tool":
        try:
            order = json.loads(str(last.get("content") or ""))
        except json.JSONDecodeError:
            order = None
        if not isinstance(order, dict) or "status" not in order:
            return _reply("I couldn't find that order. Could you check the order number?", [])
        item = f" ({order['item']})" if order.get("item") else ""
        return _reply(f"Order {order.get('order_id', '')}{item} is {order['status']}.", [])
    order_id = _remembered_order(message, history)
    if order_id is None:
        return _reply("I can help with that. Could you share your order number (for example A1001)?", [])
    return _reply("", [_call("lookup_order", order_id=order_id)])


def respond_previous(message: str, case: dict[str, Any] | None = None) -> dict[str, Any]:
    """The agent's previous release, before the prompt-injection guard, the hand-off to a person and the memory
    of earlier turns.

    `assay demo` runs it first, so the current agent has a baseline to be compared with.
    """
    case = case or {}
    if "lookup_order" in (case.get("mocked_tools") or []):
        return _with_order_tool(message, case.get("messages") or [])
    return _respond(message, guarded=False)


def _respond(message: str, *, guarded: bool) -> dict[str, Any]:
    lowered = message.lower()
    if guarded and INJECTION.search(message):
        return _reply("Sorry, I can't do that. I'm happy to help with your orders, though.", [])
    if guarded and any(w in lowered for w in ("human", "manager", "real person", "speak to someone")):
        return _reply(
            "I'm connecting you with a member of our support team now.",
            [_call("handoff_to_human", reason="customer asked for a person")],
        )
    match = ORDER_ID.search(message)
    if match:
        return _about_order(message, match.group(1).upper())
    if any(w in lowered for w in ("order", "refund", "money back", "cancel", "package", "delivery")):
        return _reply("I can help with that. Could you share your order number (for example A1001)?", [])
    return _reply("Hi! I can help you track orders, cancel them, or request refunds. What do you need?", [])
