from __future__ import annotations

import asyncio
import random
import time

from assay.providers import AdaptiveLimiter, ChatRequest, EndpointConfig, ProviderRegistry, RetryPolicy, TokenBucket
from assay.providers.retry import backoff_delay, parse_retry_after
from assay.testing.fake_llm import FakeLLMServer


def ask(text: str) -> ChatRequest:
    return ChatRequest(messages=[{"role": "user", "content": text}])


async def drive(limiter: AdaptiveLimiter, outcomes: list[str]) -> None:
    """Acquire and release once per outcome: `ok`, `429`, or anything else (an error that is not a rate limit)."""
    for outcome in outcomes:
        token = await limiter.acquire()
        limiter.release(token, rate_limited=outcome == "429", success=outcome == "ok")


def storm(rng: random.Random, n: int, *, rate_429: float, rate_other: float) -> list[str]:
    outcomes = []
    for _ in range(n):
        r = rng.random()
        outcomes.append("429" if r < rate_429 else "error" if r < rate_429 + rate_other else "ok")
    return outcomes


async def test_random_errors_and_scattered_429s_do_not_shrink_the_limit() -> None:
    limiter = AdaptiveLimiter(50)
    # 500s, timeouts and unreadable answers at 40 %, and 20 % of 429s: nothing says "slow down"
    await drive(limiter, storm(random.Random(7), 5000, rate_429=0.2, rate_other=0.4))
    assert limiter.decreases == 0 and limiter.current_limit == 50
    # errors alone, at any rate, never do either
    await drive(limiter, ["error"] * 500)
    assert limiter.decreases == 0 and limiter.current_limit == 50


async def test_sustained_429s_shrink_once_per_window_then_recover_quickly() -> None:
    limiter = AdaptiveLimiter(50)
    tokens = [await limiter.acquire() for _ in range(50)]
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    # a burst of 429s from requests admitted together halves the limit once, as soon as half the window says so
    for token in tokens[:25]:
        limiter.release(token, rate_limited=True)
    assert limiter.current_limit == 25 and limiter.decreases == 1
    for token in tokens[25:]:
        limiter.release(token, rate_limited=True)  # admitted before the decrease: not counted again
    assert limiter.current_limit == 25 and limiter.decreases == 1
    await asyncio.sleep(0)
    assert waiter.done()  # 0 in flight, limit 25: the waiter got its slot
    limiter.release(waiter.result(), rate_limited=True)
    # a sustained storm walks it down to the floor, one halving per window
    await drive(limiter, ["429"] * 200)
    assert limiter.current_limit == 1 and 4 <= limiter.decreases <= 10
    # each clean window closes half the gap to the maximum: back to 50 within a few windows
    used = 0
    while limiter.current_limit < 50:
        await drive(limiter, ["ok"] * 10)
        used += 10
        assert used <= 400  # one success per slot per window, as in the plain AIMD, would take over 1200
    assert limiter.increases >= 5


async def test_limiter_floor_and_cancellation() -> None:
    limiter = AdaptiveLimiter(2, min_limit=1)
    await drive(limiter, ["429"] * 100)
    assert limiter.current_limit == 1
    held = await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    limiter.release(held, record=False)
    assert limiter.in_flight == 0


async def test_server_errors_timeouts_and_malformed_answers_keep_the_pool(
    fake: FakeLLMServer, registry: ProviderRegistry
) -> None:
    faults = {
        "rate_500": 0.15,
        "rate_timeout": 0.05,
        "timeout_s": 1,
        "rate_malformed": 0.1,
        "rate_429": 0.15,
        "retry_after_s": 0,
    }
    fake.set_scenario({"latency_ms": 10, "seed": 5, "faults": faults})
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=16)
    policy = RetryPolicy(max_attempts=12, base_delay=0.005, max_delay=0.02, timeout=0.3)
    results = await asyncio.gather(*(registry.chat(ep, ask(f"q{i}"), retry=policy) for i in range(200)))
    assert [r.text for r in results] == [f"q{i}" for i in range(200)]
    by_status = fake.stats()["by_status"]
    assert by_status.get("429", 0) > 20 and by_status.get("500", 0) > 20  # the faults did happen
    limiter = registry.limiter(ep)
    assert limiter.decreases == 0 and limiter.current_limit == 16 and limiter.in_flight == 0


async def test_aimd_lowers_concurrency_under_sustained_429s(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"latency_ms": 5, "seed": 3, "faults": {"rate_429": 0.8, "retry_after_s": 0}})
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=16)
    policy = RetryPolicy(max_attempts=60, base_delay=0.002, max_delay=0.005)
    await asyncio.gather(*(registry.chat(ep, ask(f"q{i}"), retry=policy) for i in range(60)))
    limiter = registry.limiter(ep)
    assert limiter.decreases >= 2 and limiter.current_limit < 16
    # the server saw the lower concurrency: late requests ran with fewer in flight than the start
    fake.reset()
    fake.set_scenario({"latency_ms": 20})
    lingering = fake.stats()["in_flight"]  # hung requests an earlier test gave up on may still be held
    low = limiter.current_limit
    await asyncio.gather(*(registry.chat(ep, ask(f"r{i}")) for i in range(low * 2)))
    assert fake.stats()["max_in_flight"] <= lingering + low + 1
    # successes raise it again, quickly
    for _ in range(6):
        await asyncio.gather(*(registry.chat(ep, ask(f"s{i}")) for i in range(32)))
    assert limiter.current_limit == 16


async def test_retry_after_is_per_request_and_the_slot_is_free_while_it_waits(
    fake: FakeLLMServer, registry: ProviderRegistry
) -> None:
    rule = {"contains": "limited", "times": 1, "faults": {"rate_429": 1.0, "retry_after_s": 1}}
    fake.set_scenario({"latency_ms": 20, "rules": [rule]})
    ep = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", max_concurrency=1)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)
    started = time.monotonic()

    async def timed(text: str) -> tuple[str, int, float]:
        result = await registry.chat(ep, ask(text), retry=policy)
        return result.text, result.attempts, time.monotonic() - started

    limited = asyncio.create_task(timed("limited"))
    await asyncio.sleep(0.01)
    others = await asyncio.gather(*(timed(f"free {i}") for i in range(5)))
    text, attempts, elapsed = await limited
    assert (text, attempts) == ("limited", 2) and elapsed >= 1.0  # it waited its Retry-After
    # with one slot, the other five all went through while the refused request slept
    assert all(done < 1.0 for _, _, done in others), others
    log = fake.requests()
    assert [e["status"] for e in log if e["last_user"] == "limited"] == [429, 200]
    assert max(e["ts"] for e in log if e["last_user"] != "limited") < log[-1]["ts"]
    limiter = registry.limiter(ep)
    assert limiter.decreases == 0 and limiter.current_limit == 1 and limiter.in_flight == 0


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


async def test_a_changed_limit_applies_to_the_next_calls(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    """The budget of a key follows its limits: raising an instance's RPM (or adding a TPM) is not ignored
    because the process already holds a bucket for that key."""
    slow = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", rpm=60)
    await registry.chat(slow, ask("first"))  # the bucket of 1 request a second is now empty
    fast = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", rpm=6000)
    started = time.monotonic()
    await asyncio.gather(*(registry.chat(fast, ask(f"q{i}")) for i in range(5)))
    assert time.monotonic() - started < 0.9  # at 60 RPM the five would take four seconds
    tokens = EndpointConfig(model="m", base_url=fake.base_url, api_key="k", rpm=6000, tpm=600)
    budget = registry.budget(tokens)
    assert budget is not None and budget.tokens is not None and budget is not registry.budget(fast)


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
