"""What an instance call returns, and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from assay.domain.outcomes import ToolCall
from assay.errors import DomainError
from assay.providers.errors import ErrorKind

InstanceErrorKind = Literal[ErrorKind, "invalid_response", "mapping"]
"""A provider's error kinds (`ErrorKind`), plus the instance's own: an answer of the wrong shape, a failed mapping."""


@dataclass(slots=True)
class InstanceReply:
    """The agent's answer to one case."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    tokens: int | None = None
    latency_ms: float = 0.0
    attempts: int = 1
    message: dict[str, Any] | None = None
    """The assistant message in the OpenAI chat format, tool call ids included (`openai_chat` instances)."""


class InstanceError(DomainError):
    """Calling the instance failed. `kind` says why; the message never contains a secret."""

    def __init__(
        self,
        message: str,
        *,
        kind: InstanceErrorKind | str,
        status_code: int | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.attempts = attempts
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"InstanceError(kind={self.kind!r}, status_code={self.status_code!r}, message={self.message!r})"
