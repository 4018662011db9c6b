"""The events of one trace as a tree (by `$ai_parent_id` → `$ai_span_id`) and as timed intervals for a timeline.

A node is named by its `$ai_span_id`, else by its event uuid. A node whose parent is missing, is itself, or is the
trace id hangs under the trace's `$ai_trace` event when there is one, else at the top. An event's timestamp is
taken as its end and `$ai_latency` (seconds) as its duration, so it starts `latency` seconds earlier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from assay.domain.ai_events import TRACE
from assay.domain.transcript import EventFigures, event_figures


@dataclass(slots=True)
class TraceNode:
    """One event of the trace with its children (in time order) and its depth in the tree."""

    uuid: str
    event: str
    timestamp: datetime
    properties: Mapping[str, Any]
    figures: EventFigures
    children: list[TraceNode] = field(default_factory=list)
    depth: int = 0

    @property
    def name(self) -> str:
        return self.figures.span_name or self.figures.model or self.event

    @property
    def start(self) -> datetime:
        return self.timestamp - timedelta(seconds=max(0.0, self.figures.latency_s or 0.0))


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """What the tree needs of a stored event."""

    uuid: str
    event: str
    timestamp: datetime
    properties: Mapping[str, Any]


def _id(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def build_tree(trace_id: str, events: list[TraceEvent]) -> list[TraceNode]:
    """The top-level nodes of the trace (each with its descendants), all children in time order."""
    nodes = [
        TraceNode(e.uuid, e.event, e.timestamp, e.properties, event_figures(e.properties))
        for e in sorted(events, key=lambda e: e.timestamp)
    ]
    by_id: dict[str, TraceNode] = {}
    for node in nodes:
        by_id.setdefault(_id(node.properties.get("$ai_span_id")) or node.uuid, node)
    trace_root = next((n for n in nodes if n.event == TRACE), None)
    roots: list[TraceNode] = []
    for node in nodes:
        own = _id(node.properties.get("$ai_span_id")) or node.uuid
        parent_id = _id(node.properties.get("$ai_parent_id"))
        parent = by_id.get(parent_id) if parent_id and parent_id not in (own, trace_id) else None
        if parent is None and node is not trace_root and trace_root is not None:
            parent = trace_root
        if parent is None or parent is node or _descends(parent, node, by_id):
            roots.append(node)
        else:
            parent.children.append(node)
    for root in roots:
        _set_depth(root, 0)
    return roots


def _descends(candidate: TraceNode, ancestor: TraceNode, by_id: dict[str, TraceNode]) -> bool:
    """Whether `candidate` already sits under `ancestor` (so linking would make a cycle)."""
    stack = list(ancestor.children)
    while stack:
        node = stack.pop()
        if node is candidate:
            return True
        stack.extend(node.children)
    return False


def _set_depth(node: TraceNode, depth: int) -> None:
    stack = [(node, depth)]
    while stack:
        current, level = stack.pop()
        current.depth = level
        stack.extend((child, level + 1) for child in current.children)


def flatten(roots: list[TraceNode]) -> list[TraceNode]:
    """The nodes in depth-first order (the order the tree and the timeline list them)."""
    out: list[TraceNode] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out
