from __future__ import annotations

import json
import uuid

import pytest

from assay.domain.outcomes import CaseOutcome, ToolCall
from assay.evaluators.judge_cache import InMemoryJudgeCache
from assay.evaluators.posthog_judge import ALLOWS_NA_INSTRUCTIONS, run_llm_judge
from assay.evaluators.structured_judge import BooleanEvalResult, JudgeError
from assay.evaluators.suite_judge import SuiteJudgeConfig, judge_case
from assay.providers import EndpointConfig, ProviderRegistry, RetryPolicy
from assay.testing.fake_llm import FakeLLMServer

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, timeout=10)
SYSTEM = (
    "You are an evaluator. Evaluate the following generation according to this criteria:\n\n"
    "Is the answer polite?\n\n"
    "Provide a brief reasoning (1 sentence) and a boolean verdict (true/false)."
)


def endpoint(fake: FakeLLMServer, provider: str = "openai") -> EndpointConfig:
    # a fresh model name per test keeps the remembered "no json_schema" state apart
    return EndpointConfig(
        model=f"judge-{uuid.uuid4().hex[:8]}", provider=provider, base_url=fake.base_url, api_key="sk-j"
    )


async def judge(fake: FakeLLMServer, registry: ProviderRegistry, **kw):
    params = {"prompt": "Is the answer polite?", "input_text": "Say hi", "output_text": "Go away."}
    params.update(kw)
    params.setdefault("endpoint", endpoint(fake))
    return await run_llm_judge(registry=registry, retry=FAST, cache=InMemoryJudgeCache(), **params)


async def test_exact_prompts_structured_output_and_result(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "contains": "Go away",
                    "json": {"verdict": False, "reasoning": "Rude."},
                    "usage": {"prompt_tokens": 50, "completion_tokens": 9},
                }
            ]
        }
    )
    ep = endpoint(fake)
    result = await judge(fake, registry, endpoint=ep)
    assert (result.verdict, result.reasoning, result.applicable) == (False, "Rude.", None)
    assert (result.input_tokens, result.output_tokens, result.total_tokens) == (50, 9, 59)
    assert (result.model, result.provider) == (ep.model, "openai")
    assert "applicable" not in result.to_dict()
    [entry] = fake.requests()
    assert entry["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Input: Say hi\n\nOutput: Go away."},
    ]
    assert entry["temperature"] == 0
    fmt = entry["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "BooleanEvalResult"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["reasoning", "verdict"] and schema["additionalProperties"] is False


async def test_allows_na_prompt_and_not_applicable(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"json": {"applicable": False, "verdict": None, "reasoning": "No criteria match."}}]})
    result = await judge(fake, registry, allows_na=True)
    assert (result.verdict, result.applicable) == (None, False)
    assert result.to_dict()["applicable"] is False
    system = fake.requests()[0]["messages"][0]["content"]
    assert system.endswith("Is the answer polite?\n\n" + ALLOWS_NA_INSTRUCTIONS)
    assert ALLOWS_NA_INSTRUCTIONS.startswith("First, determine if this evaluation criteria is applicable")
    assert "- reasoning: a brief explanation (1 sentence)" in ALLOWS_NA_INSTRUCTIONS
    fake.set_scenario(None)  # default synthesis: applicable and a verdict
    applicable = await judge(fake, registry, allows_na=True, output_text="other")
    assert applicable.applicable is True and applicable.verdict is True


async def test_na_validation_rules_give_parse_error_after_retries(
    fake: FakeLLMServer, registry: ProviderRegistry
) -> None:
    fake.set_scenario({"rules": [{"json": {"applicable": True, "verdict": None, "reasoning": "?"}}]})
    with pytest.raises(JudgeError) as info:
        await judge(fake, registry, allows_na=True)
    assert info.value.error_type == "parse_error" and "verdict is required" in info.value.message
    assert len(fake.requests()) == FAST.max_attempts
    fake.reset()
    fake.set_scenario({"rules": [{"json": {"applicable": False, "verdict": True, "reasoning": "?"}}]})
    with pytest.raises(JudgeError, match="verdict must be null"):
        await judge(fake, registry, allows_na=True)


async def test_malformed_output_is_parse_error_after_retries(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"faults": {"rate_malformed": 1.0, "malformed_mode": "invalid_json"}})
    with pytest.raises(JudgeError) as info:
        await judge(fake, registry)
    assert info.value.error_type == "parse_error"
    assert len(fake.requests()) == FAST.max_attempts
    assert all(e["status"] == 200 for e in fake.requests())


async def test_fallback_when_json_schema_is_rejected(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "json_schema_supported": False,
            "rules": [{"json": {"verdict": True, "reasoning": "Fine."}, "fence_json": True}],
        }
    )
    ep = endpoint(fake)
    result = await judge(fake, registry, endpoint=ep)
    assert (result.verdict, result.reasoning) == (True, "Fine.")
    first, second = fake.requests()
    assert first["status"] == 400 and first["response_format"]["type"] == "json_schema"
    # json_object with the schema (llama.cpp's form) and the schema in the prompt
    assert second["status"] == 200 and second["response_format"]["type"] == "json_object"
    assert second["response_format"]["schema"] == first["response_format"]["json_schema"]["schema"]
    schema_text = json.dumps(BooleanEvalResult.model_json_schema(), indent=2)
    assert second["messages"][0]["content"] == (
        SYSTEM
        + "\n\nYou must respond with valid JSON that matches this schema:\n"
        + schema_text
        + "\n\nReturn ONLY the JSON object, no other text or markdown formatting."
    )
    assert second["messages"][1] == first["messages"][1]
    # the endpoint is remembered: the next call goes straight to the fallback
    await judge(fake, registry, endpoint=ep, output_text="another")
    assert len(fake.requests()) == 3 and fake.requests()[2]["response_format"]["type"] == "json_object"


async def test_fallback_default_synthesis_from_instruction(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"json_schema_supported": False})
    result = await judge(fake, registry, allows_na=True)
    assert result.applicable is True and result.verdict is True


@pytest.mark.parametrize(
    ("rule", "error_type", "message"),
    [
        ({"status": 401}, "auth_error", "API key is invalid or has been deleted."),
        ({"status": 403}, "permission_error", "API key doesn't have access to this model."),
        ({"status": 429, "error_code": "insufficient_quota"}, "quota_error", "API key has exceeded its quota."),
        ({"faults": {"rate_429": 1.0, "retry_after_s": 0}}, "rate_limit", "API key is being rate limited."),
        ({"status": 404, "error_code": "model_not_found"}, "model_not_found", None),
    ],
)
async def test_error_mapping(
    fake: FakeLLMServer, registry: ProviderRegistry, rule: dict, error_type: str, message: str | None
) -> None:
    fake.set_scenario({"rules": [rule]})
    ep = endpoint(fake)
    with pytest.raises(JudgeError) as info:
        await judge(fake, registry, endpoint=ep)
    assert info.value.error_type == error_type
    assert info.value.message == (message or f"Model '{ep.model}' not found.")


async def test_cache_hit_makes_no_second_request(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    cache = InMemoryJudgeCache()
    ep = endpoint(fake)
    args = {"prompt": "p", "input_text": "i", "output_text": "o", "endpoint": ep, "registry": registry, "cache": cache}
    first = await run_llm_judge(**args)
    second = await run_llm_judge(**args)
    assert len(fake.requests()) == 1
    assert not first.cached and second.cached and second.verdict == first.verdict
    assert cache.hits == 1 and len(cache) == 1
    await run_llm_judge(**{**args, "output_text": "different"})
    assert len(fake.requests()) == 2
    await run_llm_judge(**args, use_cache=False)
    assert len(fake.requests()) == 3


async def test_anthropic_judge(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"json": {"verdict": False, "reasoning": "Nope."}}]})
    result = await judge(fake, registry, endpoint=endpoint(fake, "anthropic"))
    assert (result.verdict, result.provider) == (False, "anthropic")
    entry = fake.requests()[0]
    assert entry["path"] == "/v1/messages" and entry["system"] == SYSTEM


OUTCOME = CaseOutcome(
    input="Book a table for two",
    output="Booked for 7pm.",
    expected="Calls book_table with party_size 2",
    tool_calls=[ToolCall("book_table", {"party_size": 2})],
    metadata={"locale": "en-GB", "nested": {"k": 1}},
)


async def test_suite_judge_template_and_boolean_verdict(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario(
        {
            "rules": [
                {
                    "json": {"verdict": True, "reasoning": "Right tool."},
                    "usage": {"prompt_tokens": 30, "completion_tokens": 5},
                }
            ]
        }
    )
    template = "In={{input}} Out={{ output }} Exp={{expected}} Tools={{tool_calls}} Loc={{metadata.locale}} N={{metadata.nested}} X={{unknown}}"
    verdict = await judge_case(
        OUTCOME,
        SuiteJudgeConfig(prompt=template),
        endpoint(fake),
        registry=registry,
        retry=FAST,
        cache=InMemoryJudgeCache(),
    )
    assert (verdict.status, verdict.score, verdict.passed, verdict.reason) == ("passed", 1.0, True, "Right tool.")
    assert verdict.judge_tokens == 35 and verdict.evaluator == "llm_judge"
    user = fake.requests()[0]["messages"][1]["content"]
    assert user == (
        "In=Book a table for two Out=Booked for 7pm. Exp=Calls book_table with party_size 2 "
        'Tools=[{"name":"book_table","arguments":{"party_size":2}}] Loc=en-GB N={"k":1} X='
    )


async def test_suite_judge_default_prompt_numeric_and_na(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    cache = InMemoryJudgeCache()
    fake.set_scenario({"rules": [{"json": {"score": 85, "reasoning": "Mostly."}}]})
    numeric = SuiteJudgeConfig(output_type="numeric", pass_threshold=0.8)
    verdict = await judge_case(OUTCOME, numeric, endpoint(fake), registry=registry, retry=FAST, cache=cache)
    assert (verdict.status, verdict.score, verdict.passed) == ("passed", 0.85, True)
    user = fake.requests()[0]["messages"][1]["content"]
    assert "Book a table for two" in user and "Booked for 7pm." in user and "book_table" in user
    assert fake.requests()[0]["response_format"]["json_schema"]["name"] == "NumericEvalResult"
    fake.set_scenario({"rules": [{"json": {"applicable": False, "score": None, "reasoning": "n/a"}}]})
    na = await judge_case(
        OUTCOME, SuiteJudgeConfig(output_type="numeric", allows_na=True), endpoint(fake), registry=registry, cache=cache
    )
    assert (na.status, na.score, na.passed) == ("not_applicable", None, None)
    fake.set_scenario({"rules": [{"json": {"verdict": False, "reasoning": "Wrong."}}]})
    failed = await judge_case(
        OUTCOME,
        SuiteJudgeConfig(prompt="Plain criteria without placeholders"),
        endpoint(fake),
        registry=registry,
        cache=cache,
    )
    assert (failed.status, failed.score, failed.passed) == ("failed", 0.0, False)
    user = fake.requests()[-1]["messages"][1]["content"]
    assert user.startswith("Plain criteria without placeholders") and "Booked for 7pm." in user


async def test_suite_judge_errors_and_cache(fake: FakeLLMServer, registry: ProviderRegistry) -> None:
    fake.set_scenario({"rules": [{"status": 401}]})
    error = await judge_case(OUTCOME, SuiteJudgeConfig(), endpoint(fake), registry=registry, retry=FAST)
    assert (error.status, error.error, error.score, error.passed) == ("error", "auth_error", None, None)
    fake.set_scenario(None)
    cache = InMemoryJudgeCache()
    ep = endpoint(fake)
    first = await judge_case(OUTCOME, SuiteJudgeConfig(), ep, registry=registry, cache=cache)
    second = await judge_case(OUTCOME, SuiteJudgeConfig(), ep, registry=registry, cache=cache)
    assert first.judge_tokens > 0 and second.judge_tokens == 0 and second.details["cached"] is True
    count = len(fake.requests())
    await judge_case(OUTCOME, SuiteJudgeConfig(use_cache=False), ep, registry=registry, cache=cache)
    assert len(fake.requests()) == count + 1
