"""Agents for the `assay run` tests (imported from the suite file's folder)."""

import asyncio
import threading
import time


def echo(message):
    if "boom" in message:
        raise RuntimeError("the agent exploded")
    if "weather" in message:
        return {
            "text": "Sunny in Paris",
            "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
            "tokens": 7,
        }
    return f"echo: {message}"


async def async_echo(message, case):
    await asyncio.sleep(0)
    return {"text": f"{message} / {case.get('expected_behavior')}", "tokens": 3}


def slow(message):
    time.sleep(2)
    return "late"


def bad_type(message):
    return 42


_calls = {"n": 0}


def flaky(message):
    """Answers right on every other call: a deliberately inconsistent agent."""
    _calls["n"] += 1
    return f"echo: {message}" if _calls["n"] % 2 else "no idea"


_barriers: dict[int, threading.Barrier] = {}
_barrier_lock = threading.Lock()


def together(message):
    """Answers only once N calls are in flight at the same time (N: the message's last word)."""
    parties = int(message.split()[-1])
    with _barrier_lock:
        barrier = _barriers.setdefault(parties, threading.Barrier(parties, timeout=10))
    barrier.wait()
    return "together"
