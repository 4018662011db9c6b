"""Python evaluators and an agent used by the suite files and scripts of the evals tests."""

from __future__ import annotations

import asyncio
import time

from assay.evals import AgentOutput, CaseOutcome, PythonCase, Verdict


def agent(text: str) -> str | AgentOutput:
    if "weather" in text:
        return AgentOutput(
            "It is sunny.", tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}], tokens=9
        )
    if text == "boom":
        raise RuntimeError("the agent exploded")
    return f"echo: {text}"


def is_echo(outcome: CaseOutcome) -> bool:
    return outcome.output.startswith("echo")


def length_percent(case: PythonCase, outcome: CaseOutcome) -> float:
    return min(100, 10 * len(outcome.output))


def with_reason(case: PythonCase, outcome: CaseOutcome) -> tuple[float, str]:
    return (0.9, f"answered {case.input!r}")


def as_dict(outcome: CaseOutcome) -> dict:
    if not outcome.tool_calls:
        return {"status": "not_applicable", "reason": "no tool calls"}
    return {"score": 1.0, "reason": f"called {outcome.tool_calls[0].name}", "details": {"n": len(outcome.tool_calls)}}


def as_verdict(outcome: CaseOutcome) -> Verdict:
    return Verdict("ignored", "passed", 0.75, "a verdict object", passed=True)


async def async_check(outcome: CaseOutcome) -> bool:
    await asyncio.sleep(0.01)
    return "e" in outcome.output


def too_slow(outcome: CaseOutcome) -> bool:
    time.sleep(0.3)
    return True


def raises(outcome: CaseOutcome) -> bool:
    raise ValueError(f"cannot judge {outcome.input!r}")


def returns_list(outcome: CaseOutcome) -> list[int]:
    return [1]
