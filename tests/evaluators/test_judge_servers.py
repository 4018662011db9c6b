"""The judge against the response-format behaviour of real OpenAI-compatible servers (the fake server's flavors)."""

from __future__ import annotations

import time
import uuid

import orjson
import pytest

from assay.domain.outcomes import CaseOutcome
from assay.evaluators.judge_cache import InMemoryJudgeCache
from assay.evaluators.posthog_judge import run_llm_judge
from assay.evaluators.structured_judge import DEFAULT_JUDGE_MAX_TOKENS, JudgeError
from assay.evaluators.suite_judge import SuiteJudgeConfig, judge_case
from assay.providers import EndpointConfig, ProviderRegistry, RetryPolicy
from assay.providers.structured import FormatMemory
from assay.testing.fake_llm import FakeLLMServer

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, timeout=10)
RUDE = {"rules": [{"contains": "Go away", "json": {"verdict": False, "reasoning": "Rude."}}]}
OUTCOME = CaseOutcome(input="Book a table", output="Booked.", expected="Confirms the booking")


def endpoint(fake: FakeLLMServer, provider: str = "openai") -> EndpointConfig:
    return EndpointConfig(model=f"judge-{uuid.uuid4().hex[:8]}", provider=provider, base_url=fake.base_url)


async def judge(fake: FakeLLMServer, registry: ProviderRegistry, ep: EndpointConfig, memory: FormatMemory, **kw):
    params = {"prompt": "Is the answer polite?", "input_text": "Say hi", "output_text": "Go away."}
    params.update(kw)
    return await run_llm_judge(
        endpoint=ep, registry=registry, retry=FAST, cache=InMemoryJudgeCache(), memory=memory, **params
    )


def formats(fake: FakeLLMServer) -> list[tuple[int, str | None]]:
    return [(r["status"], (r["response_format"] or {}).get("type")) for r in fake.requests()]


@pytest.fixture
def memory() -> FormatMemory:
    return FormatMemory()


@pytest.mark.parametrize(("flavor", "status"), [("llama_cpp", 500), ("llama_server", 400)])
async def test_llama_cpp_refuses_json_schema_and_takes_json_object_with_schema(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory, flavor: str, status: int
) -> None:
    fake.set_scenario({"flavor": flavor, **RUDE})
    ep = endpoint(fake)
    result = await judge(fake, registry, ep, memory)
    assert (result.verdict, result.reasoning) == (False, "Rude.")
    # the refusal is not retried (not even the 500), and the schema travels inside json_object
    assert formats(fake) == [(status, "json_schema"), (200, "json_object")]
    second = fake.requests()[1]
    assert second["response_format"]["schema"]["required"] == ["reasoning", "verdict"]
    # remembered per base URL + model: later judgements go straight to json_object
    await judge(fake, registry, ep, memory, output_text="Go away, again.")
    assert formats(fake)[2:] == [(200, "json_object")]
    # another model on the same server starts from the top
    await judge(fake, registry, endpoint(fake), memory)
    assert formats(fake)[3:] == [(status, "json_schema"), (200, "json_object")]


async def test_llama_cpp_suite_judge_numeric(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"flavor": "llama_cpp", "rules": [{"json": {"score": 90, "reasoning": "Good."}}]})
    verdict = await judge_case(
        OUTCOME, SuiteJudgeConfig(output_type="numeric"), endpoint(fake), registry=registry, retry=FAST, cache=None
    )
    assert (verdict.status, verdict.score, verdict.reason) == ("passed", 0.9, "Good.")
    assert formats(fake) == [(500, "json_schema"), (200, "json_object")]


async def test_ollama_ignoring_json_schema_falls_back_and_learns(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"flavor": "ollama", **RUDE})
    ep = endpoint(fake)
    result = await judge(fake, registry, ep, memory)
    assert (result.verdict, result.reasoning) == (False, "Rude.")
    first, second = fake.requests()
    assert first["response_format"]["type"] == "json_schema" and first["status"] == 200  # answered in prose
    assert second["response_format"]["type"] == "json_object"
    assert result.input_tokens > 0 and result.output_tokens > 0  # usage of both calls
    # one unreadable answer demotes nothing; a second one in a row does
    await judge(fake, registry, ep, memory, output_text="Go away, again.")
    assert formats(fake)[2:] == [(200, "json_schema"), (200, "json_object")]
    await judge(fake, registry, ep, memory, output_text="Go away, third time.")
    assert formats(fake)[4:] == [(200, "json_object")]


async def test_vllm_guided_decoding_and_unsupported_schema(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"flavor": "vllm", **RUDE})
    result = await judge(fake, registry, endpoint(fake), memory)
    assert result.verdict is False and formats(fake) == [(200, "json_schema")]
    fake.reset()
    # the numeric schema uses minimum/maximum, which this grammar backend cannot compile: 400, then json_object
    fake.set_scenario({"flavor": "vllm", "rules": [{"json": {"score": 40, "reasoning": "Weak."}}]})
    verdict = await judge_case(
        OUTCOME, SuiteJudgeConfig(output_type="numeric"), endpoint(fake), registry=registry, retry=FAST, cache=None
    )
    assert (verdict.status, verdict.score) == ("failed", 0.4)
    assert formats(fake) == [(400, "json_schema"), (200, "json_object")]


async def test_lmstudio_takes_json_schema(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"flavor": "lmstudio", **RUDE})
    result = await judge(fake, registry, endpoint(fake), memory)
    assert result.verdict is False and formats(fake) == [(200, "json_schema")]


async def test_every_format_refused_ends_with_instructed_json(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    # LM Studio refuses json_object; with json_schema refused too only the prompt is left
    fake.set_scenario({"flavor": "lmstudio", "json_schema_supported": False, **RUDE})
    ep = endpoint(fake)
    result = await judge(fake, registry, ep, memory)
    assert result.verdict is False
    assert formats(fake) == [(400, "json_schema"), (400, "json_object"), (200, None)]
    await judge(fake, registry, ep, memory, output_text="Go away, again.")
    assert formats(fake)[3:] == [(200, None)]


async def test_rambling_model_is_capped_and_its_answer_extracted(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    scenario = {"flavor": "lmstudio", "json_schema_supported": False, "ramble": True, "ms_per_token": 2, **RUDE}
    fake.set_scenario(scenario)
    ep = endpoint(fake)
    started = time.perf_counter()
    result = await judge(fake, registry, ep, memory, max_tokens=150)
    elapsed = time.perf_counter() - started
    assert (result.verdict, result.reasoning) == (False, "Rude.")  # found after leading prose, before the ramble
    last = fake.requests()[-1]
    assert last["max_tokens"] == 150 and result.output_tokens == 150
    assert elapsed < 2.0  # 150 tokens at 2 ms, not a context's worth
    # uncapped, the same model writes until its context is full
    fake.set_scenario({**scenario, "ms_per_token": 0})
    fake.reset()
    loose = await judge(fake, registry, ep, memory, max_tokens=None, output_text="Go away, uncapped.")
    assert fake.requests()[-1]["max_tokens"] is None and loose.output_tokens > 1500


async def test_default_cap_reaches_openai_and_anthropic(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    await judge(fake, registry, endpoint(fake), memory)
    await judge(fake, registry, endpoint(fake, "anthropic"), memory)
    await judge(fake, registry, endpoint(fake, "anthropic"), memory, max_tokens=77)
    assert [r["max_tokens"] for r in fake.requests()] == [DEFAULT_JUDGE_MAX_TOKENS, DEFAULT_JUDGE_MAX_TOKENS, 77]
    assert fake.requests()[1]["path"] == "/v1/messages"


async def test_max_completion_tokens_models(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"max_completion_tokens_only": True, **RUDE})
    ep = endpoint(fake)
    assert (await judge(fake, registry, ep, memory)).verdict is False
    assert [r["status"] for r in fake.requests()] == [400, 200]
    assert fake.requests()[1]["max_tokens"] == DEFAULT_JUDGE_MAX_TOKENS
    await judge(fake, registry, ep, memory, output_text="Go away, again.")
    assert [r["status"] for r in fake.requests()][2:] == [200]


async def test_unreadable_answers_never_repeat_a_request(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"rules": [{"reply": "I think it is fine, really."}]})
    ep = endpoint(fake)
    many = RetryPolicy(max_attempts=10, base_delay=0.01, timeout=10)
    with pytest.raises(JudgeError) as info:
        await run_llm_judge(
            prompt="p",
            input_text="i",
            output_text="o",
            endpoint=ep,
            registry=registry,
            retry=many,
            memory=memory,
            use_cache=False,
        )
    assert info.value.error_type == "parse_error" and "not a JSON object" in info.value.message
    sent = [orjson.dumps([r["messages"], r["response_format"]]) for r in fake.requests()]
    assert len(sent) == len(set(sent)) == 4  # each format once, then the answer sent back once with the problem
    assert formats(fake) == [(200, "json_schema"), (200, "json_object"), (200, None), (200, None)]
    assert "could not be used" in fake.requests()[3]["messages"][-1]["content"]
    # nothing worked, so nothing is demoted
    assert memory.chain(ep.limiter_key()) == ["json_schema", "json_object", "instructed"]


async def test_invalid_json_is_sent_back_with_the_problem(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario(
        {
            "rules": [
                {"json": {"applicable": True, "verdict": None, "reasoning": "?"}, "times": 1},
                {"json": {"applicable": True, "verdict": True, "reasoning": "Fine."}},
            ]
        }
    )
    result = await judge(fake, registry, endpoint(fake), memory, allows_na=True)
    assert (result.applicable, result.verdict) == (True, True)
    first, second = fake.requests()
    assert second["response_format"] == first["response_format"]
    assert second["messages"][2]["role"] == "assistant"
    assert orjson.loads(second["messages"][2]["content"]) == {"applicable": True, "verdict": None, "reasoning": "?"}
    assert "verdict is required" in second["messages"][3]["content"]


async def test_vllm_context_limit_shrinks_the_cap(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"flavor": "vllm", "context_tokens": 600, **RUDE})
    result = await judge(fake, registry, endpoint(fake), memory)
    assert result.verdict is False
    refused, answered = fake.requests()
    assert (refused["status"], refused["max_tokens"]) == (400, DEFAULT_JUDGE_MAX_TOKENS)
    assert answered["status"] == 200 and answered["max_tokens"] == 600 - result.input_tokens
    fake.reset()
    fake.set_scenario({"flavor": "vllm", "context_tokens": 60, **RUDE})  # no room left for an answer: a clear error
    with pytest.raises(JudgeError) as info:
        await judge(fake, registry, endpoint(fake), memory)
    assert info.value.error_type == "bad_request" and "maximum context length" in info.value.message
    assert len(fake.requests()) == 1


async def test_single_attempt_refusal_is_reported_as_such(
    fake: FakeLLMServer, registry: ProviderRegistry, memory: FormatMemory
) -> None:
    fake.set_scenario({"flavor": "llama_cpp", **RUDE})
    ep = endpoint(fake)
    with pytest.raises(JudgeError) as info:
        await run_llm_judge(
            prompt="p",
            input_text="i",
            output_text="Go away.",
            endpoint=ep,
            registry=registry,
            retry=RetryPolicy(max_attempts=1, timeout=10),
            memory=memory,
        )
    assert info.value.error_type == "bad_request" and "json_object" in info.value.message
    assert memory.chain(ep.limiter_key())[0] == "json_object"  # the next call starts where this one stopped
