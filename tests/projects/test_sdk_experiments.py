"""PostHog's evaluations SDK uploading offline experiments to Assay: scorers, experiments pinned to a dataset
revision, results that become runs of Assay's (visible in /v1, compared, in agreement), and the SDK's scopes."""

from __future__ import annotations

import uuid

import httpx
import pytest
from posthog.ai.evaluations import EvaluationAPIError, EvaluationItem, EvaluationResult, OfflineEvaluations

from assay.storage import runs as run_store
from tests.conftest import Env, add_key
from tests.projects.test_sdk_datasets import project_number
from tests.web.conftest import sign_in


def _run_experiment(ev: OfflineEvaluations, snapshot, versions: dict[str, str], answers: dict[str, str]):  # noqa: ANN001, ANN202
    """One execution of every item of the snapshot: the answer and two scores for it."""
    experiment = ev.create_experiment(
        name="support bot",
        dataset_revision_id=snapshot.revision_id,
        expected_item_count=2,
        expected_result_count=4,
        model_version="m-1",
        run_source="ci",
    )
    results = []
    for item in snapshot.iter_items():
        answer = answers[item.input]
        execution = EvaluationItem.from_dataset_item(item, output=answer)
        correct = answer == item.expected_output
        results.append(EvaluationResult(item=execution, scorer_version_id=versions["correct"], value=correct))
        results.append(
            EvaluationResult(
                item=execution, scorer_version_id=versions["quality"], value=0.9 if correct else 0.2, reasoning="ok"
            )
        )
    receipt = experiment.upload_results(results)
    assert [r.created for chunk in receipt.chunks for r in chunk.results] == [True] * 4
    again = experiment.upload_results(results)  # a replay is acknowledged, nothing is added
    assert [r.created for chunk in again.chunks for r in chunk.results] == [False] * 4
    return experiment


async def test_an_uploaded_experiment_is_a_run_compared_with_the_next(app, live_url: str, env_a: Env) -> None:  # noqa: ANN001
    number = await project_number(app, env_a)
    with OfflineEvaluations(project_id=number, secret_key=env_a.key, host=live_url, max_retries=0) as ev:
        correct = ev.scorers.create(name="correct", kind="boolean", config={"true_label": "yes"})
        quality = ev.scorers.create(
            name="quality",
            kind="numeric",
            config={"min": 0, "max": 1, "passing_rule": {"operator": "gte", "threshold": 0.5}},
            tags=["Quality"],
        )
        assert quality.tags == ("quality",) and quality.team == number and quality.current_version == 1
        bumped = ev.scorers.create_version(correct.id, config={"true_label": "right"}, base_version=1)
        assert bumped.current_version == 2 and bumped.current_version_id != correct.current_version_id
        assert [v.version for v in ev.scorers.list_versions(correct.id).results] == [2, 1]
        assert {s.name for s in ev.scorers.list().results} == {"correct", "quality"}
        with pytest.raises(EvaluationAPIError) as composite:
            ev.scorers.create(
                name="mix",
                kind="numeric",
                config={},
                calculation="composite",
                composition={
                    "expression": "a",
                    "inputs": [{"alias": "a", "scorer_version_id": quality.current_version_id}],
                },
            )
        assert composite.value.status == 400

        ds = ev.datasets.create(name="faq")
        ev.datasets.create_item(ds.id, input="2+2?", expected_output="4")
        ev.datasets.create_item(ds.id, input="capital of France?", expected_output="Paris")
        snapshot = ev.datasets.snapshot(ds.id)
        versions = {"correct": bumped.current_version_id, "quality": quality.current_version_id}

        base = _run_experiment(ev, snapshot, versions, {"2+2?": "4", "capital of France?": "Paris"})
        assert base.set_tags(["Nightly", "nightly"]) == ("nightly",) and base.get_tags() == ("nightly",)
        closed = base.complete()
        assert (closed.status, closed.accepted_item_count, closed.accepted_result_count) == ("completed", 2, 4)
        assert base.complete().status == "completed"  # closing again changes nothing
        head = _run_experiment(ev, snapshot, versions, {"2+2?": "4", "capital of France?": "Lyon"})
        head.complete()

        failing = ev.create_experiment(name="support bot", expected_item_count=5)
        item = EvaluationItem(input="hi", output="hello")
        failing.upload_result(item=item, scorer_version_id=versions["correct"], value=True)
        with pytest.raises(EvaluationAPIError) as short:
            failing.complete()  # 1 item accepted, 5 declared
        assert short.value.status == 409
        assert failing.fail().status == "failed"
        with pytest.raises(EvaluationAPIError) as closed_upload:
            failing.upload_result(item=item, scorer_version_id=versions["quality"], value=0.5)
        assert closed_upload.value.status == 409

    async with httpx.AsyncClient(base_url=live_url, headers=env_a.headers) as http:
        receipts = {}
        for exp in (base, head, failing):
            r = await http.get(f"/api/projects/{env_a.id}/ai_observability/offline_experiments/{exp.id}/")
            receipts[exp.id] = r.json()
        suite_id = receipts[base.id]["suite_id"]
        assert {r["suite_id"] for r in receipts.values()} == {suite_id}  # one suite per experiment name
        runs = (await http.get(f"/v1/evaluations/{suite_id}/runs")).json()
        assert sorted(r["status"] for r in runs) == ["completed", "completed", "failed"]
        base_run, head_run = receipts[base.id]["run_id"], receipts[head.id]["run_id"]
        task = (await http.get(f"/v1/tasks/{base_run}")).json()
        assert task["summary"]["passed"] == 2 and task["summary"]["pass_rate"] == 1.0
        results = (await http.get(f"/v1/evaluations/{suite_id}/results", params={"task_id": head_run})).json()
        by_answer = {r["agent_response"]: r for r in results}
        assert by_answer["Lyon"]["status"] == "failed" and by_answer["Lyon"]["score"] == 0.0
        assert {v["evaluator"] for v in by_answer["4"]["evaluator_results"]} == {"correct", "quality"}
        comparison = (
            await http.get(f"/v1/evaluations/{suite_id}/compare", params={"base": base_run, "head": head_run})
        ).json()
        assert comparison["n_paired"] == 2 and len(comparison["regressed"]) == 1
        reviewed = await http.patch(
            f"/v1/evaluations/{suite_id}/results/{by_answer['Lyon']['id']}", json={"score": 100, "score_reason": "fine"}
        )
        assert reviewed.status_code == 200 and reviewed.json()["status"] == "passed"  # threshold 100: all pass
        agreement = await http.get(f"/v1/evaluations/{suite_id}/agreement")
        assert agreement.status_code == 200
        assert {"correct", "quality"} <= {e["evaluator"] for e in agreement.json()["evaluators"]}
        await sign_in(http, env_a.key)
        for page in (
            "/",
            f"/suites/{suite_id}",
            f"/runs/{head_run}",
            f"/suites/{suite_id}/compare?base={base_run}&head={head_run}",
            f"/suites/{suite_id}/reliability",
        ):
            shown = await http.get(page)
            assert shown.status_code == 200 and "support bot" in shown.text, page
        assert "Lyon" in (await http.get(f"/runs/{head_run}")).text
        assert (await http.get(f"/runs/{head_run}/review")).status_code == 200

    async with app.state.sessionmaker() as session:
        _, recorded = await run_store.get_run_with_snapshot(session=session, run_id=uuid.UUID(base_run))
    assert recorded.dataset is not None and recorded.dataset["revision"] == snapshot.revision
    assert recorded.experiment is not None and recorded.experiment["model_version"] == "m-1"
    assert [i.evaluator["name"] for i in recorded.recipe.items] == ["correct", "quality"]


async def test_the_sdk_scopes_and_integer_project_ids(app, live_url: str, env_a: Env) -> None:  # noqa: ANN001
    number = await project_number(app, env_a)
    ingest = await add_key(app, env_a, ["offline_evaluation_ingestion:write"])
    reader = await add_key(app, env_a, ["llm_analytics:read"])
    with OfflineEvaluations(project_id=number, secret_key=env_a.key, host=live_url, max_retries=0) as owner:
        scorer = owner.scorers.create(name="ok", kind="boolean", config={})
    with OfflineEvaluations(project_id=number, secret_key=ingest, host=live_url, max_retries=0) as ev:
        experiment = ev.create_experiment(name="ingest only")
        experiment.upload_result(
            item=EvaluationItem(input="q", output="a"), scorer_version_id=scorer.current_version_id, value=True
        )
        assert experiment.complete().status == "completed"
        for call in (experiment.get_tags, ev.scorers.list, lambda: ev.datasets.list()):
            with pytest.raises(EvaluationAPIError) as refused:
                call()
            assert refused.value.status == 403
    with OfflineEvaluations(project_id=number, secret_key=reader, host=live_url, max_retries=0) as ev:
        assert [s.name for s in ev.scorers.list().results] == ["ok"]
        assert ev.resume_experiment(experiment.id).get_tags() == ()
        with pytest.raises(EvaluationAPIError) as refused:
            ev.scorers.create(name="no", kind="boolean", config={})
        assert refused.value.status == 403
        with pytest.raises(EvaluationAPIError) as refused:
            ev.create_experiment(name="no")
        assert refused.value.status == 403
    with OfflineEvaluations(project_id=number + 1, secret_key=env_a.key, host=live_url, max_retries=0) as other:
        with pytest.raises(EvaluationAPIError) as refused:
            other.scorers.list()
        assert refused.value.status == 403
    async with httpx.AsyncClient(base_url=live_url, headers=env_a.headers) as http:
        for path in (
            f"/api/environments/{number}/datasets",
            f"/api/projects/{number}/datasets/",
            f"/api/projects/{env_a.id}/datasets/",
        ):
            assert (await http.get(path)).status_code == 200, path
        r = await http.post(f"/api/environments/{number}/datasets", json={"name": "by number"})
        assert r.status_code == 201
