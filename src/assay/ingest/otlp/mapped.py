"""What a dialect module read from a span's attributes: properties, the attribute keys it used, the span's kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["generation", "embedding", "span"]


@dataclass(slots=True)
class Mapped:
    """`properties` are `$ai_*` properties; `used` the attribute keys they came from (not kept as they are)."""

    properties: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    kind: Kind | None = None

    def take(self, attributes: dict[str, Any], key: str, prop: str, convert: Any = None) -> None:
        """Set `prop` from `attributes[key]` (converted) unless it is set already or the value is missing."""
        if key not in attributes:
            return
        self.used.add(key)
        value = attributes[key]
        if convert is not None:
            value = convert(value)
        if value is not None and value != "" and prop not in self.properties:
            self.properties[prop] = value
