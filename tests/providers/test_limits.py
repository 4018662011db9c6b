from __future__ import annotations

import asyncio
import random
import time

from assay.providers import AdaptiveLimiter, ChatRequest, EndpointConfig, ProviderRegistry, RetryPolicy, TokenBucket
from assay.providers.retry import backoff_delay, parse_retry_after
from assay.testing.fake_llm import FakeLLMServer


def ask(text: str) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}])


async def test_limiter_aimd_unit() -> None:
    limiter = AdaptiveLimiter(8)
    tokens = [await limiter.acquire() for _ in range(8)]
    assert limiter.in_flight == 8
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    # a burst of 429s from the same generation halves the limit once
    for token in tokens[:4]:
        limiter.release(token, rate_limited=True)
    assert limiter.current_limit == 4 and limiter.decreases == 1
    assert not waiter.done()  # 4 still in flight, limit 4
    for token in tokens[4:]:
        limiter.release(token, success=True)
    await asyncio.sleep(0)
    assert waiter.done()
    limiter.release(waiter.result(), success=True)
    for _ in range(200):
        limiter.release(await limiter.acquire(), success=True)
    assert limiter.current_limit == 8


async def test_limiter_floor_and_cancellation() -> None:
    limiter = AdaptiveLimiter(2, min_limit=1)
    for _ in range(5):
        limiter.release(await limiter.acquire(), rate_limited=True)
    assert limiter.current_limit == 1
    held = await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    limiter.release(held)
    assert limiter.in_flight == 0


async def test_aimd_lowers_concurrency_under_429s(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"latency_ms": 20, "seed": 3, "faults": {"rate_429": 0.5, "retry_after_s": 0}})
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=16)
    policy = RetryPolicy(max_attempts=30, base_delay=0.005, max_delay=0.02)
    await asyncio.gather(*(registry.chat(ep, ask(f"q{i}"), retry=policy) for i in range(120)))
    limiter = registry.limiter(ep)
    assert limiter.decreases >= 2 and limiter.current_limit < 16
    # the server saw the lower concurrency: late requests ran with fewer in flight than the start
    fake.reset()
    fake.set_scenario({"latency_ms": 20})
    low = limiter.current_limit
    await asyncio.gather(*(registry.chat(ep, ask(f"r{i}")) for i in range(low * 2)))
    assert fake.stats()["max_in_flight"] <= low + 1
    # successes raise it again (additive increase)
    for _ in range(8):
        await asyncio.gather(*(registry.chat(ep, ask(f"s{i}")) for i in range(32)))
    assert limiter.current_limit > low


async def test_max_concurrency_is_respected_at_server(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"latency_ms": 30})
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=5)
    await asyncio.gather(*(registry.chat(ep, ask(f"q{i}")) for i in range(40)))
    stats = fake.stats()
    assert stats["max_in_flight"] == 5 and stats["total"] == 40


async def test_rpm_budget_spaces_requests(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", rpm=600)
    other_model = EndpointConfig(model="m2", base_url=fake.base_url, api_key="k", rpm=600)
    started = time.monotonic()
    await asyncio.gather(
        *(registry.chat(ep, ask(f"q{i}")) for i in range(10)),
        *(registry.chat(other_model, ask(f"r{i}")) for i in range(10)),
    )
    elapsed = time.monotonic() - started
    assert elapsed >= 0.9  # 10 burst, then 10 at 10/s, shared by both models on the key
    stamps = sorted(e["ts"] for e in fake.requests())
    assert stamps[-1] - stamps[0] >= 0.7  # the server sees them spread out; load only delays the later ones more


async def test_token_bucket_tpm() -> None:
    bucket = TokenBucket(6000)  # 100 tokens/s, capacity 100
    started = time.monotonic()
    await bucket.acquire(100)
    await bucket.acquire(50)
    assert time.monotonic() - started >= 0.45
    bucket.adjust(-1000)
    assert bucket.tokens <= bucket.capacity


def test_backoff_and_retry_after_parsing() -> None:
    policy = RetryPolicy(base_delay=1, max_delay=5)
    rng = random.Random(1)
    delays = [backoff_delay(n, policy, rng) for n in (1, 2, 3, 10) for _ in range(50)]
    assert all(0 <= d <= 5 for d in delays)
    assert max(backoff_delay(1, policy, rng) for _ in range(50)) <= 1
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


async def test_registry_survives_new_event_loop(fake: FakeLLMServer) -> None:
    from assay.providers import get_registry

    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k")
    assert (await get_registry().chat(ep, ask("one"))).text == "one"
