"""Judge reliability: the page's figures equal the API's `/agreement`, the confusion matrix, the disagreement
drivers linking to their results, scopes and environments; the kappa bootstrap CI on its own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from markupsafe import escape

from assay.domain.reliability import kappa_bootstrap_ci
from assay.domain.stats import cohen_kappa
from tests.analysis.helpers import make_two_runs
from tests.conftest import add_key, make_env
from tests.engine.conftest import engine_client, engine_settings, running_app, tenant  # noqa: F401
from tests.web.conftest import sign_in
from tests.web.review_data import api_results, make_review_run

_CARD = re.compile(r'<section class="card evaluator" data-evaluator="([^"]+)"(.*?)>', re.S)
_ATTR = re.compile(r'data-([a-z-]+)="([^"]*)"')


def cards(page: str) -> dict[str, dict[str, str]]:
    return {name: dict(_ATTR.findall(attrs)) for name, attrs in _CARD.findall(page)}


def section(page: str, evaluator: str) -> str:
    start = page.index(f'data-evaluator="{evaluator}"')
    end = page.find('<section class="card evaluator"', start)
    return page[start : end if end > 0 else len(page)]


def number(value: str) -> float | None:
    return None if value == "None" else float(value)


async def review(client, env, run, fixed: list[tuple[str, int, int]]) -> None:  # noqa: ANN001
    """Override (case label, repetition index among that case's results, score) through the API."""
    results = await api_results(client, env, run)
    by_case: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(results.values(), key=lambda r: r["repetition"]):
        by_case.setdefault(run.label(r["test_case_id"]), []).append(r)
    for label, index, score in fixed:
        result = by_case[label][index]
        answer = await client.patch(
            f"/v1/evaluations/{run.suite_id}/results/{result['id']}", json={"score": score}, headers=env.headers
        )
        assert answer.status_code == 200, answer.text


async def test_reliability_equals_the_api_with_matrix_and_drivers(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    results = await api_results(engine_client, tenant, run)
    passed_c1 = next(r for r in results.values() if run.label(r["test_case_id"]) == "c1" and r["status"] == "passed")
    c1_index = (
        0
        if passed_c1["repetition"]
        == min(r["repetition"] for r in results.values() if r["test_case_id"] == passed_c1["test_case_id"])
        else 1
    )
    # Judge (case score) vs human: c0 0→90, 0→20; c2 100→10; c3 100→100; c1's passed repetition 100→80.
    await review(
        engine_client, tenant, run, [("c0", 0, 90), ("c0", 1, 20), ("c2", 0, 10), ("c3", 0, 100), ("c1", c1_index, 80)]
    )
    await sign_in(engine_client, tenant.key, next_url=f"/suites/{run.suite_id}/reliability")
    answer = await engine_client.get(f"/suites/{run.suite_id}/reliability")
    assert answer.status_code == 200, answer.text
    page = answer.text
    api = (await engine_client.get(f"/v1/evaluations/{run.suite_id}/agreement", headers=tenant.headers)).json()
    shown = cards(page)
    assert list(shown) == [e["evaluator"] for e in api["evaluators"]] == ["case", "llm_judge"]
    for entry in api["evaluators"]:
        figures = shown[entry["evaluator"]]
        human, repetitions = entry["human"], entry["repetitions"]
        assert int(figures["n"]) == human["n"] == 5
        assert number(figures["kappa"]) == human["kappa"]
        assert number(figures["agreement"]) == human["agreement_rate"]
        assert number(figures["mae"]) == human["mean_absolute_error"]
        assert number(figures["flip-rate"]) == repetitions["flip_rate"] == 0.25
        assert number(figures["spread"]) == repetitions["mean_score_sd"]

    case = section(page, "case")
    matrix = re.findall(r'<td class="(?:agree|disagree)">(\d+)</td>', case)
    assert matrix == ["2", "1", "1", "1"]  # judge pass: human pass 2, fail 1; judge fail: human pass 1, fail 1
    assert "95 % CI" in case
    gaps = case[case.index("Largest judge–human gaps") :]
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td><a href="/runs/([^/]+)/results/([^"]+)">open</a>', gaps)
    assert [int(g) for g, _, _ in rows] == [90, 90, 20, 20]
    assert {run_id for _, run_id, _ in rows} == {run.task_id} and all(r in results for _, _, r in rows)
    flips = case[case.index("Cases that flip") :]
    c1_results = {i for i, r in results.items() if run.label(r["test_case_id"]) == "c1"}
    assert set(re.findall(rf'href="/runs/{run.task_id}/results/([^"]+)"', flips)) == c1_results
    assert str(escape("<c1> question")) in flips and "<c1> question" not in page
    for link in set(re.findall(r'href="(/runs/[^"]+/(?:review\?|results/)[^"]+)"', page)):
        assert (await engine_client.get(link.replace("&amp;", "&"))).status_code == 200


async def test_an_unreviewed_suite_shows_consistency_only(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    await sign_in(engine_client, tenant.key, next_url=f"/suites/{run.suite_id}/reliability")
    page = (await engine_client.get(f"/suites/{run.suite_id}/reliability")).text
    assert "No reviewed results yet." in page and "Flip rate" in page
    assert set(cards(page)) == {"case", "llm_judge"} and "data-kappa" not in page


async def test_read_only_reads_and_another_environment_gets_404(engine_client, running_app, tenant, fake) -> None:  # noqa: ANN001, F811
    run = await make_review_run(engine_client, tenant, fake)
    reader = await add_key(running_app, tenant, ["evaluation:read"])
    await sign_in(engine_client, reader, next_url=f"/suites/{run.suite_id}/reliability")
    assert (await engine_client.get(f"/suites/{run.suite_id}/reliability")).status_code == 200
    engine_client.cookies.clear()
    other = await make_env(running_app, "other-env")
    await sign_in(engine_client, other.key)
    assert (await engine_client.get(f"/suites/{run.suite_id}/reliability")).status_code == 404
    api = await engine_client.get(f"/v1/evaluations/{run.suite_id}/agreement", headers=other.headers)
    assert api.status_code == 404
    assert (await engine_client.get("/suites/not-a-uuid/reliability")).status_code == 422


def test_kappa_ci_brackets_kappa_and_is_seeded() -> None:
    judge = [True, True, False, False, True, False, True, True, False, True, False, False]
    human = [True, False, False, False, True, True, True, True, False, True, False, True]
    kappa = cohen_kappa(judge, human)
    ci = kappa_bootstrap_ci(judge, human)
    assert ci is not None and kappa is not None
    assert -1 <= ci[0] <= kappa <= ci[1] <= 1
    assert kappa_bootstrap_ci(judge, human) == ci
    assert kappa_bootstrap_ci(judge, human, seed=1) != ci
    wider = kappa_bootstrap_ci(judge, human, confidence=0.99)
    assert wider is not None and wider[0] <= ci[0] and wider[1] >= ci[1]


@pytest.mark.parametrize(
    ("judge", "human"),
    [([], []), ([True], [True]), ([True, True, True], [True, True, True])],
)
def test_kappa_ci_is_none_when_kappa_is_undefined(judge: list[bool], human: list[bool]) -> None:
    assert kappa_bootstrap_ci(judge, human) is None


def test_kappa_ci_by_cell_counts_matches_resampling_the_items() -> None:
    """The counts bootstrap draws from the same distribution as picking items with replacement."""
    import random

    rng = random.Random(7)
    judge = [rng.random() < 0.6 for _ in range(300)]
    human = [j if rng.random() < 0.8 else not j for j in judge]
    ci = kappa_bootstrap_ci(judge, human, resamples=4000)
    picks = random.Random(3)
    values = sorted(
        k
        for k in (
            cohen_kappa(*zip(*[(judge[i], human[i]) for i in picks.choices(range(300), k=300)], strict=True))
            for _ in range(4000)
        )
        if k is not None
    )
    reference = (values[int(0.025 * len(values))], values[int(0.975 * len(values))])
    assert ci is not None
    assert abs(ci[0] - reference[0]) < 0.03 and abs(ci[1] - reference[1]) < 0.03, (ci, reference)


def test_perfect_agreement_gives_a_degenerate_interval() -> None:
    verdicts = [True, False] * 10
    assert kappa_bootstrap_ci(verdicts, verdicts) == (1.0, 1.0)


async def test_runs_without_repetitions_count_through_their_reviews(engine_client, tenant, fake) -> None:  # noqa: ANN001, F811
    runs = await make_two_runs(engine_client, tenant, fake)
    results = (
        await engine_client.get(
            f"/v1/evaluations/{runs.suite_id}/results", params={"task_id": runs.head}, headers=tenant.headers
        )
    ).json()
    by_case = {r["test_case_id"]: r for r in results}
    for case, human in [("c0", 90), ("c1", 20), ("c2", 10), ("c10", 80), ("c11", 100)]:
        answer = await engine_client.patch(
            f"/v1/evaluations/{runs.suite_id}/results/{by_case[runs.case_ids[case]]['id']}",
            json={"score": human},
            headers=tenant.headers,
        )
        assert answer.status_code == 200
    await sign_in(engine_client, tenant.key, next_url=f"/suites/{runs.suite_id}/reliability")
    page = (await engine_client.get(f"/suites/{runs.suite_id}/reliability")).text
    api = (await engine_client.get(f"/v1/evaluations/{runs.suite_id}/agreement", headers=tenant.headers)).json()
    shown = cards(page)
    assert list(shown) == [e["evaluator"] for e in api["evaluators"]]
    for entry in api["evaluators"]:
        figures, human = shown[entry["evaluator"]], entry["human"]
        assert (int(figures["n"]), number(figures["kappa"]), number(figures["mae"])) == (
            human["n"],
            human["kappa"],
            human["mean_absolute_error"],
        )
        assert "flip-rate" not in figures and entry["repetitions"] is None
    assert "2 runs · 5 reviewed results · 0 runs with repetitions" in page
