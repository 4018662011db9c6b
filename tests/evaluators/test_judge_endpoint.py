"""The judge endpoint rules shared by run snapshots and online evaluation."""

from __future__ import annotations

from assay.evaluators.judge_endpoint import ProviderKeyCredentials, default_judge_endpoint, resolve_judge_endpoint
from assay.settings import Settings

DEFAULT = default_judge_endpoint(("openai", "gpt-x"), base_url="http://judge/v1", api_key="sk-default", concurrency=7)


def test_no_model_is_the_default_judge() -> None:
    assert resolve_judge_endpoint(None, default=DEFAULT, provider_key=None, concurrency=7) is DEFAULT
    assert resolve_judge_endpoint(None, default=None, provider_key=None, concurrency=7) is None


def test_a_provider_key_gives_url_key_and_budgets() -> None:
    key = ProviderKeyCredentials("anthropic", "http://key/", "sk-key", rpm=60, tpm=1000)
    model = {"model": "m", "provider_key_id": "x"}
    endpoint = resolve_judge_endpoint(model, default=DEFAULT, provider_key=key, concurrency=3)
    assert endpoint is not None
    assert (endpoint.provider, endpoint.base_url, endpoint.api_key, endpoint.rpm, endpoint.tpm) == (
        "anthropic",
        "http://key/",
        "sk-key",
        60,
        1000,
    )
    assert endpoint.max_concurrency == 3


def test_without_a_key_the_default_judge_serves_its_own_provider_only() -> None:
    same = resolve_judge_endpoint(
        {"provider": "openai", "model": "m"}, default=DEFAULT, provider_key=None, concurrency=7
    )
    assert same is not None and (same.base_url, same.api_key, same.model) == ("http://judge/v1", "sk-default", "m")
    other = {"provider": "anthropic", "model": "m"}
    keyless = resolve_judge_endpoint(other, default=DEFAULT, provider_key=None, concurrency=7)
    assert keyless is not None and keyless.api_key is None and keyless.base_url is None
    strict = resolve_judge_endpoint(
        other, default=DEFAULT, provider_key=None, concurrency=7, require_served_provider=True
    )
    assert strict is None
    with_url = {**other, "base_url": "http://local/v1"}
    local = resolve_judge_endpoint(
        with_url, default=DEFAULT, provider_key=None, concurrency=7, require_served_provider=True
    )
    assert local is not None and local.base_url == "http://local/v1"


def test_settings_complete_the_judge_from_the_provider_variables(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://ant/")
    settings = Settings(judge_model="anthropic/claude", judge_base_url="http://explicit/")
    assert settings.judge_provider_and_model == ("anthropic", "claude")
    assert (settings.judge_base_url, settings.judge_api_key) == ("http://explicit/", "sk-ant-from-env")
    assert Settings(judge_model="gpt-x").judge_provider_and_model == ("openai", "gpt-x")
