"""The http instance's retry loop under faults: an OpenAI-compatible endpoint (the fake server) called as plain HTTP."""

from __future__ import annotations

import asyncio
import time

from assay.providers import RetryPolicy
from assay.targets import HttpClientRegistry, call_instance, parse_spec
from assay.testing.fake_llm import FakeLLMServer


def chat_over_http(fake: FakeLLMServer, **kw):
    return parse_spec(
        {
            "kind": "http",
            "url": f"{fake.base_url}/chat/completions",
            "body_template": {"model": "m", "messages": [{"role": "user", "content": "{{input_message}}"}]},
            "response": {"text": "$.choices[0].message.content"},
            **kw,
        }
    )


async def test_errors_hangs_and_scattered_429s_keep_the_pool(
    fake: FakeLLMServer, http_clients: HttpClientRegistry
) -> None:
    faults = {"rate_429": 0.15, "retry_after_s": 0, "rate_500": 0.15, "rate_timeout": 0.05, "timeout_s": 3}
    fake.set_scenario({"latency_ms": 10, "seed": 9, "faults": faults})
    spec = chat_over_http(fake, max_concurrency=8, timeout_s=0.3)
    policy = RetryPolicy(max_attempts=12, base_delay=0.005, max_delay=0.02, timeout=0.3)
    replies = await asyncio.gather(
        *(call_instance(spec, f"q{i}", {}, retry=policy, http_clients=http_clients) for i in range(120))
    )
    assert [r.text for r in replies] == [f"q{i}" for i in range(120)]
    by_status = fake.stats()["by_status"]
    assert by_status.get("429", 0) > 10 and by_status.get("500", 0) > 10
    limiter = http_clients.limiter(spec)
    assert limiter.decreases == 0 and limiter.current_limit == 8 and limiter.in_flight == 0


async def test_retry_after_is_per_request_and_frees_the_slot(
    fake: FakeLLMServer, http_clients: HttpClientRegistry
) -> None:
    rule = {"contains": "limited", "times": 1, "faults": {"rate_429": 1.0, "retry_after_s": 1}}
    fake.set_scenario({"latency_ms": 20, "rules": [rule]})
    spec = chat_over_http(fake, max_concurrency=1)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002, timeout=5)
    started = time.monotonic()

    async def timed(text: str) -> tuple[str, int, float]:
        reply = await call_instance(spec, text, {}, retry=policy, http_clients=http_clients)
        return reply.text, reply.attempts, time.monotonic() - started

    limited = asyncio.create_task(timed("limited"))
    await asyncio.sleep(0.01)
    others = await asyncio.gather(*(timed(f"free {i}") for i in range(5)))
    text, attempts, elapsed = await limited
    assert (text, attempts) == ("limited", 2) and elapsed >= 1.0
    assert all(done < 1.0 for _, _, done in others), others  # one slot, and it was free while "limited" waited
    assert http_clients.limiter(spec).decreases == 0
