"""`/compare` and `/agreement` through HTTP on SQLite and PostgreSQL, against figures computed by hand."""

from __future__ import annotations

import pytest

from tests.analysis.helpers import make_two_runs, run_suite, verdict
from tests.engine.conftest import create_instance, create_suite


async def test_compare_two_runs(engine_client, tenant, fake):
    runs = await make_two_runs(engine_client, tenant, fake)
    url = f"/v1/evaluations/{runs.suite_id}/compare"
    r = await engine_client.get(url, params={"base": runs.base, "head": runs.head}, headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    ids = runs.case_ids
    assert body["n_paired"] == 12 and body["alpha"] == 0.05
    score = body["score"]
    # base: 11 x 100 + 0; head: 2 x 100 + 10 x 0 (c12 is head-only)
    assert score["mean_base"] == pytest.approx(1100 / 12, abs=1e-4)
    assert score["mean_head"] == pytest.approx(200 / 12, abs=1e-4)
    assert score["mean_difference"] == pytest.approx(-75)
    assert -100 <= score["ci_low"] <= -75 <= score["ci_high"] < 0 and score["resamples"] == 2000
    # ten -100, one +100, one 0: zeros dropped, 11 tied ranks of 6, W+ = 6, p = 2 * 12 / 2^11
    assert body["wilcoxon"] == {"statistic": 6, "p_value": pytest.approx(24 / 2048), "n_nonzero": 11, "method": "exact"}
    assert body["sign_test"] == {"p_value": pytest.approx(24 / 2048), "n_positive": 1, "n_negative": 10, "n_zero": 1}
    assert body["pass_rate"] == {
        "base": pytest.approx(11 / 12, abs=1e-4),
        "head": pytest.approx(2 / 12, abs=1e-4),
        "change": pytest.approx(-0.75),
    }
    tokens = body["tokens"]
    assert (tokens["mean_base"], tokens["mean_head"], tokens["mean_change"]) == (15, 30, 15)
    assert (tokens["total_base"], tokens["total_head"], tokens["total_change"]) == (180, 390, 210)
    assert body["latency"]["p50_base_ms"] is not None and body["latency"]["mean_head_ms"] is not None
    assert body["base"]["task_id"] == runs.base and body["head"]["task_id"] == runs.head
    assert (body["base"]["results"], body["head"]["results"], body["head"]["cases"]) == (12, 13, 13)
    assert {c["test_case_id"] for c in body["regressed"]} == {ids[f"c{i}"] for i in range(10)}
    first = body["regressed"][0]
    assert (first["base_score"], first["head_score"], first["difference"]) == (100, 0, -100)
    assert "It is good." in first["base_reason"] and "It is bad." in first["head_reason"]
    assert [c["test_case_id"] for c in body["improved"]] == [ids["c11"]]
    assert body["unpaired"] == {"base_only": [], "head_only": [ids["c12"]], "unscored": []}
    assert body["significant_regression"] is True

    again = (await engine_client.get(url, params={"base": runs.base, "head": runs.head}, headers=tenant.headers)).json()
    assert (again["score"]["ci_low"], again["score"]["ci_high"]) == (score["ci_low"], score["ci_high"])
    strict = await engine_client.get(
        url, params={"base": runs.base, "head": runs.head, "alpha": 0.01}, headers=tenant.headers
    )
    assert strict.json()["significant_regression"] is False  # p = 0.0117
    swapped = (
        await engine_client.get(url, params={"base": runs.head, "head": runs.base}, headers=tenant.headers)
    ).json()
    assert swapped["score"]["mean_difference"] == pytest.approx(75) and swapped["significant_regression"] is False
    assert swapped["unpaired"]["base_only"] == [ids["c12"]] and len(swapped["improved"]) == 10


async def test_compare_errors(engine_client, tenant, fake):
    runs = await make_two_runs(engine_client, tenant, fake)
    url = f"/v1/evaluations/{runs.suite_id}/compare"
    get = engine_client.get
    assert (await get(url, params={"base": runs.base}, headers=tenant.headers)).status_code == 422
    assert (await get(url, params={"head": runs.head}, headers=tenant.headers)).status_code == 422
    assert (await get(url, params={"base": "nope", "head": runs.head}, headers=tenant.headers)).status_code == 422
    bad_alpha = {"base": runs.base, "head": runs.head, "alpha": 1.5}
    assert (await get(url, params=bad_alpha, headers=tenant.headers)).status_code == 422
    unknown = {"base": runs.base, "head": runs.suite_id}
    assert (await get(url, params=unknown, headers=tenant.headers)).status_code == 404
    instance_id = await create_instance(engine_client, tenant, fake)
    other_suite = await create_suite(engine_client, tenant, instance_id=instance_id, cases=[{"input_message": "hi"}])
    other_task = await run_suite(engine_client, tenant, other_suite)
    foreign = {"base": runs.base, "head": other_task}
    assert (await get(url, params=foreign, headers=tenant.headers)).status_code == 404
    other_url = f"/v1/evaluations/{other_suite}/compare"
    assert (
        await get(other_url, params={"base": runs.base, "head": runs.head}, headers=tenant.headers)
    ).status_code == 404
    missing = f"/v1/evaluations/{runs.base}/compare"
    assert (
        await get(missing, params={"base": runs.base, "head": runs.head}, headers=tenant.headers)
    ).status_code == 404
    assert (await get(url, params={"base": runs.base, "head": runs.head})).status_code == 401
    same = (await get(url, params={"base": runs.base, "head": runs.base}, headers=tenant.headers)).json()
    assert same["score"]["mean_difference"] == 0 and same["wilcoxon"]["p_value"] is None
    assert same["significant_regression"] is False and same["regressed"] == []


async def test_agreement_from_overrides(engine_client, tenant, fake):
    runs = await make_two_runs(engine_client, tenant, fake)
    results = (
        await engine_client.get(
            f"/v1/evaluations/{runs.suite_id}/results", params={"task_id": runs.head}, headers=tenant.headers
        )
    ).json()
    by_case = {r["test_case_id"]: r for r in results}
    # judge (head run): c0, c1, c2 fail (0); c10, c11 pass (100). Humans: 90, 20, 10, 80, 100 (threshold 70).
    for case, human in [("c0", 90), ("c1", 20), ("c2", 10), ("c10", 80), ("c11", 100)]:
        result_id = by_case[runs.case_ids[case]]["id"]
        r = await engine_client.patch(
            f"/v1/evaluations/{runs.suite_id}/results/{result_id}", json={"score": human}, headers=tenant.headers
        )
        assert r.status_code == 200, r.text
    url = f"/v1/evaluations/{runs.suite_id}/agreement"
    r = await engine_client.get(url, headers=tenant.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["runs"], body["reviewed_results"], body["repeated_runs"], body["task_id"]) == (2, 5, 0, None)
    # judge verdicts F F F T T vs human T F F T T: po = 0.8, pe = 0.4*0.6 + 0.6*0.4 = 0.48, kappa = 0.32/0.52;
    # MAE = (90 + 20 + 10 + 20 + 0) / 5 = 28
    expected = {
        "n": 5,
        "agreement_rate": 0.8,
        "kappa": pytest.approx(0.6154, abs=1e-4),
        "mean_absolute_error": 28,
        "judge_pass_rate": 0.4,
        "human_pass_rate": 0.6,
    }
    assert [e["evaluator"] for e in body["evaluators"]] == ["case", "llm_judge"]
    for entry in body["evaluators"]:
        assert entry["human"] == expected and entry["repetitions"] is None
    assert [e["type"] for e in body["evaluators"]] == ["case", "llm_judge"]

    head_only = (await engine_client.get(url, params={"task_id": runs.head}, headers=tenant.headers)).json()
    assert head_only["task_id"] == runs.head and head_only["evaluators"] == body["evaluators"]
    base_only = (await engine_client.get(url, params={"task_id": runs.base}, headers=tenant.headers)).json()
    assert base_only["reviewed_results"] == 0 and base_only["evaluators"] == []
    assert (await engine_client.get(url, params={"task_id": runs.suite_id}, headers=tenant.headers)).status_code == 404
    assert (await engine_client.get(url, params={"task_id": "x"}, headers=tenant.headers)).status_code == 422


async def test_agreement_from_repetitions(engine_client, tenant, fake):
    # <r0>: the judge says yes once, then no (scores 100, 0, 0: sd 57.735, range 100, a flip); <r1>: always yes.
    fake.set_scenario({"rules": [verdict("<r0>", True, times=1), verdict("<r0>", False), verdict(None, True)]})
    instance_id = await create_instance(engine_client, tenant, fake)
    cases = [{"input_message": f"<r{i}> question", "expected_behavior": "answers"} for i in range(2)]
    suite_id = await create_suite(
        engine_client, tenant, instance_id=instance_id, cases=cases, config={"repetitions": 3, "judge_cache": False}
    )
    task_id = await run_suite(engine_client, tenant, suite_id)
    body = (await engine_client.get(f"/v1/evaluations/{suite_id}/agreement", headers=tenant.headers)).json()
    assert (body["runs"], body["repeated_runs"], body["reviewed_results"]) == (1, 1, 0)
    expected = {
        "cases": 2,
        "mean_score_sd": pytest.approx(57.735 / 2, abs=1e-3),
        "mean_score_range": 50,
        "flip_rate": 0.5,
    }
    assert [e["evaluator"] for e in body["evaluators"]] == ["case", "llm_judge"]
    for entry in body["evaluators"]:
        assert entry["repetitions"] == expected and entry["human"] is None
    one = (
        await engine_client.get(
            f"/v1/evaluations/{suite_id}/agreement", params={"task_id": task_id}, headers=tenant.headers
        )
    ).json()
    assert one["evaluators"] == body["evaluators"]


async def test_compare_leaves_errored_results_out_of_the_scores(engine_client, tenant, fake):
    instance_id = await create_instance(engine_client, tenant, fake)
    recipe = {
        "name": "two",
        "items": [
            {"evaluator": {"type": "contains", "value": "q"}},
            {"evaluator": {"type": "llm_judge", "prompt": "Is {{output}} fine?"}},
        ],
    }
    r = await engine_client.post("/v1/recipes", json=recipe, headers=tenant.headers)
    assert r.status_code == 201, r.text
    cases = [{"input_message": f"<c{i}> q"} for i in range(3)]
    suite_id = await create_suite(
        engine_client,
        tenant,
        instance_id=instance_id,
        recipe_id=r.json()["id"],
        cases=cases,
        config={"judge_cache": False},
    )
    fake.set_scenario({"rules": [verdict(None, False)]})
    base = await run_suite(engine_client, tenant, suite_id)  # every case 50
    judge_down = {"model": "judge-model", "target": "any", "contains": "<c0>", "status": 401}
    fake.set_scenario({"rules": [judge_down, verdict(None, False)]})
    head = await run_suite(engine_client, tenant, suite_id)  # c0 errors (the contains check alone says 100)
    url = f"/v1/evaluations/{suite_id}/compare"
    body = (await engine_client.get(url, params={"base": base, "head": head}, headers=tenant.headers)).json()
    listed = (await engine_client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=tenant.headers)).json()
    c0 = next(c["id"] for c in listed if c["input_message"].startswith("<c0>"))
    assert body["n_paired"] == 2 and body["unpaired"]["unscored"] == [c0]
    assert body["improved"] == [] and body["score"]["mean_head"] == 50  # no 100 from a case whose judge failed
    assert (body["base"]["errors"], body["head"]["errors"]) == (0, 1)
