"""Where judge answers are kept: the cache protocol, a process-local LRU, and the content-hash key."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any, Protocol

import orjson


class JudgeCache(Protocol):
    """Where judge answers are kept by content hash."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def set(self, key: str, value: dict[str, Any]) -> None: ...


class InMemoryJudgeCache:
    """A process-local LRU judge cache."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def get(self, key: str) -> dict[str, Any] | None:
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return value

    async def set(self, key: str, value: dict[str, Any]) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_default_cache = InMemoryJudgeCache()


def default_judge_cache() -> InMemoryJudgeCache:
    """The process-wide in-memory judge cache used when no cache is passed."""
    return _default_cache


def judge_cache_key(
    *, provider: str, base_url: str | None, model: str, messages: list[dict[str, Any]], schema: Any, temperature: float
) -> str:
    """sha256 over everything that determines a judge's answer."""
    payload = [provider, base_url or "", model, messages, schema, temperature]
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
