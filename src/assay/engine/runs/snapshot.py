"""The frozen description of a run, taken when it is created: later edits never change how it reads."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from assay.domain.runs import (
    DEFAULT_JUDGE,
    DEFAULT_PASS_THRESHOLD,
    CaseSpec,
    RunItem,
    RunRecipe,
    RunSnapshot,
    default_recipe,
    implied_item,
)
from assay.domain.secrets import encrypt_secret
from assay.engine.runs.case_evaluators import JudgeEndpoint, normalize_item_config
from assay.errors import ValidationFailed
from assay.evaluators.judge_endpoint import ProviderKeyCredentials, default_judge_endpoint, resolve_judge_endpoint
from assay.evaluators.recipe import IMPLIED_TOOL_CALL_MATCH, reads_expected_tool_calls
from assay.providers.datatypes import EndpointConfig
from assay.settings import Settings
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.tables import SuiteRow

MAX_REPETITIONS = 100


def server_judge(settings: Settings) -> EndpointConfig | None:
    """The server-wide judge of ASSAY_JUDGE_MODEL (its URL and key as the settings hold them)."""
    return default_judge_endpoint(
        settings.judge_provider_and_model,
        base_url=settings.judge_base_url,
        api_key=settings.judge_api_key,
        concurrency=settings.run_concurrency,
    )


def _stored(endpoint: EndpointConfig, secret_key: str) -> JudgeEndpoint:
    key = endpoint.api_key
    return JudgeEndpoint(
        provider=endpoint.provider,
        model=endpoint.model,
        base_url=endpoint.base_url,
        encrypted_api_key=encrypt_secret(key, secret_key) if key else None,
        max_concurrency=endpoint.max_concurrency,
        rpm=endpoint.rpm,
        tpm=endpoint.tpm,
    )


def default_judge(settings: Settings) -> JudgeEndpoint | None:
    """The server-wide judge as stored in a snapshot (key encrypted)."""
    endpoint = server_judge(settings)
    return None if endpoint is None else _stored(endpoint, settings.secret_key)


async def _judge_endpoint(
    session: Session, environment_id: uuid.UUID, model: dict[str, Any] | None, settings: Settings
) -> JudgeEndpoint | None:
    credentials = None
    key_id = model.get("provider_key_id") if model else None
    if key_id:
        from assay.storage.provider_keys import load_provider_key

        row, api_key = await load_provider_key(
            session=session,
            environment_id=environment_id,
            key_id=uuid.UUID(str(key_id)),
            secret_key=settings.secret_key,
        )
        credentials = ProviderKeyCredentials(
            row.provider, row.base_url, api_key, rpm=row.requests_per_minute, tpm=row.tokens_per_minute
        )
    endpoint = resolve_judge_endpoint(
        model, default=server_judge(settings), provider_key=credentials, concurrency=settings.run_concurrency
    )
    return None if endpoint is None else _stored(endpoint, settings.secret_key)


async def _resolve_items(
    session: Session, environment_id: uuid.UUID, items: list[dict[str, Any]], settings: Settings
) -> list[dict[str, Any]]:
    resolved = []
    for item in items:
        config = normalize_item_config(dict(item["evaluator"]))
        if config["type"] == "llm_judge":
            endpoint = await _judge_endpoint(session, environment_id, config.get("model"), settings)
            if endpoint is None:
                raise ValidationFailed(
                    "the recipe has an LLM judge but no judge model is configured: give the judge a model "
                    "(provider, model, provider_key_id) or set ASSAY_JUDGE_MODEL",
                    attr="recipe_id",
                )
            config["judge_endpoint"] = endpoint.to_dict()
            config["max_tokens"] = config.get("max_tokens") or settings.judge_max_tokens
        resolved.append({**item, "evaluator": config})
    return resolved


async def _case_conversation(
    session: Session, environment_id: uuid.UUID, conversation: dict[str, Any] | None, settings: Settings
) -> dict[str, Any] | None:
    """The case's conversation with its simulated user's model resolved (key encrypted), as a judge's is."""
    user = (conversation or {}).get("simulated_user")
    if not conversation or not user or user.get("callable"):
        return conversation
    endpoint = await _judge_endpoint(session, environment_id, user.get("model"), settings)
    if endpoint is None:
        raise ValidationFailed(
            "a test case has a simulated user but no model plays it: give simulated_user a model "
            "(provider, model, provider_key_id) or set ASSAY_JUDGE_MODEL",
            attr="test_cases",
        )
    return {**conversation, "simulated_user": {**user, "endpoint": endpoint.to_dict()}}


async def build_snapshot(
    *,
    session: Session,
    suite: SuiteRow,
    settings: Settings,
    repetitions: int | None = None,
    concurrency: int | None = None,
) -> RunSnapshot:
    """Instance (secrets encrypted), resolved evaluators, cases and run settings, as of now.

    `repetitions` and `concurrency`, when given, replace the suite config's for this run (with the same limits)."""
    from assay.engine.instance_spec import load_instance_spec

    if suite.instance_id is None:
        raise ValidationFailed("the evaluation has no instance: set instance_id first", attr="instance_id")
    spec = await load_instance_spec(
        session=session,
        environment_id=suite.environment_id,
        instance_id=suite.instance_id,
        secret_key=settings.secret_key,
    )
    cases = await suite_store.list_test_cases(session=session, suite_id=suite.id)
    if not cases:
        raise ValidationFailed("the evaluation has no test cases", attr="test_cases")
    config = suite.config or {}
    overrides = {"repetitions": repetitions, "concurrency": concurrency}
    config = {**config, **{name: value for name, value in overrides.items() if value is not None}}
    repetitions = config.get("repetitions", 1)
    if not isinstance(repetitions, int) or isinstance(repetitions, bool) or not 1 <= repetitions <= MAX_REPETITIONS:
        raise ValidationFailed(f"config.repetitions must be an integer from 1 to {MAX_REPETITIONS}", attr="config")
    concurrency = config.get("concurrency", settings.run_concurrency)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 1000:
        raise ValidationFailed("config.concurrency must be an integer from 1 to 1000", attr="config")

    recipe: RunRecipe
    if suite.recipe_id is not None:
        from assay.storage.recipes import load_recipe

        loaded = await load_recipe(session=session, environment_id=suite.environment_id, recipe_id=suite.recipe_id)
        resolved = await _resolve_items(session, suite.environment_id, loaded["items"], settings)
        items = [
            RunItem(
                evaluator=i["evaluator"],
                weight=i["weight"],
                required=i["required"],
                cases_tagged=tuple(i.get("cases_tagged") or ()),
            )
            for i in resolved
        ]
        expects_calls = any(c.expected_tool_calls for c in cases)
        if expects_calls and not any(reads_expected_tool_calls(i.evaluator) for i in items):
            items.append(implied_item(dict(IMPLIED_TOOL_CALL_MATCH)))
        recipe = RunRecipe(items=tuple(items), pass_threshold=loaded.get("pass_threshold", DEFAULT_PASS_THRESHOLD))
    else:
        needs_judge = any(c.expected_behavior and c.expected_behavior.strip() for c in cases)
        judge = default_judge(settings) if needs_judge else None
        if needs_judge and judge is None:
            raise ValidationFailed(
                "test cases have expected_behavior, which the default recipe judges with an LLM, but no judge model "
                "is configured: set ASSAY_JUDGE_MODEL or give the evaluation a recipe",
                attr="recipe_id",
            )
        judge_item = dict(DEFAULT_JUDGE)
        if judge is not None:
            judge_item.update(judge_endpoint=judge.to_dict(), max_tokens=settings.judge_max_tokens)
        recipe = default_recipe(judge_item)
    return RunSnapshot(
        concurrency_limits=concurrency_limits(concurrency, spec.kind, spec.max_concurrency, recipe),
        instance=encrypt_secret(orjson.dumps(spec.reveal()).decode(), settings.secret_key),
        instance_kind=spec.kind,
        recipe=recipe,
        cases=tuple(
            [
                CaseSpec(
                    id=str(c.id),
                    input_message=c.input_message,
                    expected_behavior=c.expected_behavior,
                    expected_tool_calls=c.expected_tool_calls,
                    tags=c.tags,
                    conversation=await _case_conversation(session, suite.environment_id, c.conversation, settings)
                    if c.conversation
                    else None,
                )
                for c in cases
            ]
        ),
        repetitions=repetitions,
        concurrency=concurrency,
        use_judge_cache=bool(config.get("judge_cache", True)),
        dataset=config["dataset"] if isinstance(config.get("dataset"), dict) else None,
    )


def _judge_limits(recipe: RunRecipe) -> list[int]:
    configs = [i.evaluator for i in recipe.items]
    return [int(c["judge_endpoint"]["max_concurrency"]) for c in configs if c.get("judge_endpoint")]


def concurrency_limits(requested: int, instance_kind: str, instance_limit: int, recipe: RunRecipe) -> dict[str, Any]:
    """How many cases can really be in flight: the suite's `concurrency` capped by the instance's
    `max_concurrency` (its in-flight requests; `python` instances have no such limit) and the judges'
    endpoint limits (`ASSAY_RUN_CONCURRENCY`), with a note naming what caps it when anything does."""
    limits: dict[str, int | None] = {
        "instance": instance_limit if instance_kind != "python" else None,
        "judge": min(_judge_limits(recipe), default=None),
    }
    caps = {name: value for name, value in limits.items() if value is not None and value < requested}
    effective = min([requested, *caps.values()])
    note = None
    if caps:
        what = {
            "instance": "the instance's max_concurrency",
            "judge": "the judge endpoint's limit (ASSAY_RUN_CONCURRENCY)",
        }
        named = " and ".join(f"{what[name]} ({value})" for name, value in caps.items())
        verb = "caps" if len(caps) == 1 else "cap"
        note = f"At most {effective} cases run at once: {named} {verb} the requested concurrency {requested}."
    return {
        "requested": requested,
        "effective": effective,
        "instance_max_concurrency": limits["instance"],
        "judge_max_concurrency": limits["judge"],
        "limited_by": sorted(caps),
        "note": note,
    }
