"""Waking the app's online scheduler after a request stored something it follows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def online_notifier(app: Any) -> Callable[[], None] | None:
    """The app's online scheduler's `notify` (it never blocks the caller), or None when it does not run."""
    online = getattr(app.state, "online", None)
    return online.notify if online is not None else None
