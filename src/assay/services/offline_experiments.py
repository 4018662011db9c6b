"""Offline experiments from the user's own code (PostHog's evaluations SDK): create, upload results, tags, complete
or fail. Each experiment is a run of Assay's, in the suite named after the experiment, so it is compared, reviewed
and shown beside the runs Assay executed itself.

An uploaded item is one execution of a case: its `case_key` (else its dataset item, else its own id) names the
suite's test case, so the same case pairs up across experiments; a second execution of a case in one experiment
is its next repetition. The item's scorer results become the result row's verdicts (`domain/scorers.py`).
Every write is idempotent by the client's ids: the same declaration again is acknowledged (`created` False),
a different one is a conflict.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assay.domain.dataset_cases import as_text
from assay.domain.outcomes import Verdict
from assay.domain.runs import CaseSpec, RunItem, RunRecipe, RunSnapshot
from assay.domain.scorers import (
    PASS_THRESHOLD,
    RESULT_STATUSES,
    ScorerConfigError,
    ScorerRef,
    case_outcome,
    check_value,
    payload_of,
    verdict,
)
from assay.domain.statuses import RunStatus
from assay.engine.runs.summary import compute_summary
from assay.errors import ConflictError, ResourceNotFound, ValidationFailed
from assay.services.dataset_versions import normalize_tags
from assay.storage import dataset_revisions, run_execution
from assay.storage import offline_experiments as store
from assay.storage import runs as run_store
from assay.storage import scorers as scorer_store
from assay.storage import suites as suite_store
from assay.storage.db import Session
from assay.storage.experiment_tables import ExperimentItemRow, ExperimentResultRow, OfflineExperimentRow
from assay.storage.ids import uuid7
from assay.storage.types import utcnow

MAX_ITEMS = 1000
MAX_RESULTS = 1000
CASE_NAMESPACE = uuid.UUID("6f1d3c52-2f4e-4a57-9a43-7f0b8d1e2c11")
"""Test-case ids of uploaded cases are uuid5(suite id + case key) under this namespace."""
DECLARED_FIELDS = (
    "run_source",
    "suite_key",
    "dataset_source",
    "dataset_identifier",
    "dataset_revision_identifier",
    "dataset_revision_id",
    "application_version",
    "model_version",
    "prompt_version",
)


@dataclass(frozen=True, slots=True)
class Receipt:
    """An acknowledged item or result: its id, whether this request created it, when it was first accepted."""

    id: uuid.UUID
    created: bool
    accepted_at: datetime
    item_id: uuid.UUID | None = None
    scorer_version_id: uuid.UUID | None = None
    status: str | None = None
    error_code: str | None = None


async def _experiment(session: Session, environment_id: uuid.UUID, experiment_id: uuid.UUID) -> OfflineExperimentRow:
    row = await store.get_experiment(session=session, experiment_id=experiment_id)
    if row is None or row.environment_id != environment_id:
        raise ResourceNotFound("Not found.")
    return row


async def get_experiment(
    *, session: Session, environment_id: uuid.UUID, experiment_id: uuid.UUID
) -> OfflineExperimentRow:
    """The environment's experiment (another environment's is not found)."""
    return await _experiment(session, environment_id, experiment_id)


async def accepted_counts(*, session: Session, experiment_id: uuid.UUID) -> tuple[int, int]:
    """(accepted items, accepted results)."""
    return await store.counts(session=session, experiment_id=experiment_id)


async def _dataset_pin(session: Session, environment_id: uuid.UUID, revision_id: Any) -> dict[str, Any] | None:
    if revision_id is None:
        return None
    revision = await dataset_revisions.revision_by_id(session=session, revision_id=uuid.UUID(str(revision_id)))
    if revision is None or revision.environment_id != environment_id:
        raise ValidationFailed("No dataset revision with this id.", attr="dataset_revision_id", code="does_not_exist")
    return {"id": str(revision.dataset_id), "revision": revision.revision, "revision_id": str(revision.id)}


async def create_experiment(
    *, session: Session, environment_id: uuid.UUID, started_by: str, submission: dict[str, Any]
) -> tuple[OfflineExperimentRow, bool]:
    """Create the experiment, its suite (found by name or created) and its run, and commit; returns (row, created).

    The same id with the same declaration again returns the stored experiment (`created` False); another
    declaration under the id is a `ConflictError`.
    """
    experiment_id = uuid.UUID(str(submission["id"]))
    existing = await store.get_experiment(session=session, experiment_id=experiment_id)
    if existing is not None:
        if existing.environment_id != environment_id or existing.submission != submission:
            raise ConflictError("An experiment with this id exists with another declaration.")
        return existing, False
    name = str(submission["name"])
    started_at = datetime.fromisoformat(str(submission["started_at"]))
    suite = await suite_store.find_suite_by_name(session=session, environment_id=environment_id, name=name[:200])
    if suite is None:
        suite = await suite_store.create_suite(
            session=session,
            environment_id=environment_id,
            fields={
                "name": name[:200],
                "description": "Offline experiments uploaded with PostHog's evaluations SDK",
                "config": {"source": "offline_experiments"},
            },
        )
    snapshot = RunSnapshot(
        instance="",
        instance_kind="offline_experiment",
        recipe=RunRecipe(items=(), pass_threshold=PASS_THRESHOLD),
        cases=(),
        concurrency=1,
        dataset=await _dataset_pin(session, environment_id, submission.get("dataset_revision_id")),
        experiment={"id": str(experiment_id), **{k: submission.get(k) for k in DECLARED_FIELDS if submission.get(k)}},
    )
    run = await run_store.create_run(
        session=session, environment_id=environment_id, suite_id=suite.id, snapshot=snapshot, started_by=started_by
    )
    run.status = RunStatus.RUNNING
    run.started_at = started_at
    row = await store.add_experiment(
        session=session,
        fields={
            "id": experiment_id,
            "environment_id": environment_id,
            "name": name,
            "status": "uploading",
            "submission": submission,
            "tags": [],
            "suite_id": suite.id,
            "run_id": run.id,
            "expected_item_count": submission.get("expected_item_count"),
            "expected_result_count": submission.get("expected_result_count"),
            "started_at": started_at,
        },
    )
    await run_execution.refresh_suite(session=session, suite_id=suite.id)
    await session.commit()
    return row, True


async def set_tags(
    *, session: Session, environment_id: uuid.UUID, experiment_id: uuid.UUID, tags: list[str]
) -> OfflineExperimentRow:
    """Replace the experiment's tags (stored trimmed, lower-case, sorted) and commit."""
    row = await _experiment(session, environment_id, experiment_id)
    row.tags = normalize_tags(tags)
    await session.commit()
    return row


def _case_key(item: dict[str, Any]) -> str:
    return str(item.get("case_key") or item.get("dataset_item_identifier") or item["id"])


def _case_fields(payload: dict[str, Any]) -> dict[str, Any]:
    expected = payload.get("expected_output")
    return {
        "input_message": as_text(payload.get("input")).strip() or "(no input)",
        "expected_behavior": as_text(expected) if expected not in (None, "") else None,
        "tags": [],
    }


def _check_results(results: list[dict[str, Any]], known_items: set[uuid.UUID]) -> None:
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for n, result in enumerate(results):
        if result.get("calculate"):
            raise ValidationFailed(
                "Composite calculations are not supported: report each value.", attr=f"results.{n}.calculate"
            )
        if result.get("status", "ok") not in RESULT_STATUSES:
            raise ValidationFailed("Unsupported result status.", attr=f"results.{n}.status")
        key = (result["item_id"], result["scorer_version_id"])
        if key in seen:
            raise ValidationFailed("Each item and scorer version once per upload.", attr=f"results.{n}")
        seen.add(key)
        if result["item_id"] not in known_items:
            raise ValidationFailed(
                "Declare the item in this upload or an earlier one.", attr=f"results.{n}.item_id", code="does_not_exist"
            )


def _scorer_ref(version: Any, scorer: Any) -> ScorerRef:
    return ScorerRef(
        name=scorer.name,
        kind=version.kind,
        config=version.config,
        scorer_id=str(scorer.id),
        version_id=str(version.id),
        version=version.version,
    )


async def upload(
    *,
    session: Session,
    environment_id: uuid.UUID,
    experiment_id: uuid.UUID,
    items: list[dict[str, Any]],
    results: list[dict[str, Any]],
) -> tuple[list[Receipt], list[Receipt]]:
    """Accept items and results (all or nothing), rebuild the run's result rows of the items touched, commit.

    Items and results carry uuid `id` / `item_id` / `scorer_version_id` (already parsed). Returns the receipts
    of every item the request named (declared or scored) and of every result, in request order.
    """
    experiment = await _experiment(session, environment_id, experiment_id)
    if experiment.status != "uploading":
        raise ConflictError(f"The experiment is {experiment.status}: it takes no more uploads.")
    if len(items) > MAX_ITEMS or len(results) > MAX_RESULTS:
        raise ValidationFailed(f"At most {MAX_ITEMS} items and {MAX_RESULTS} results per upload.", attr="results")
    declared: dict[uuid.UUID, dict[str, Any]] = {}
    for n, item in enumerate(items):
        if declared.setdefault(item["id"], item) != item:
            raise ValidationFailed("Conflicting declarations of one item.", attr=f"items.{n}")
    named = list(dict.fromkeys([*declared, *(r["item_id"] for r in results)]))
    stored = await store.items_by_id(session=session, experiment_id=experiment.id, item_ids=set(named))
    for item_id, item in declared.items():
        if item_id in stored and stored[item_id].declaration != _stored_item(item):
            raise ConflictError(f"Item {item_id} was accepted with another declaration.")
    _check_results(results, set(declared) | set(stored))
    versions = await scorer_store.versions_with_scorers(
        session=session, environment_id=environment_id, version_ids={r["scorer_version_id"] for r in results}
    )
    for n, result in enumerate(results):
        found = versions.get(result["scorer_version_id"])
        if found is None:
            raise ValidationFailed(
                "No scorer version with this id.", attr=f"results.{n}.scorer_version_id", code="does_not_exist"
            )
        if result.get("status", "ok") == "ok":
            try:
                check_value(found[0].kind, found[0].config, result.get("value"))
            except ScorerConfigError as exc:
                raise ValidationFailed(str(exc), attr=f"results.{n}.value") from None
    previous = {
        (r.item_id, r.scorer_version_id): r
        for r in await store.results_of_items(session=session, experiment_id=experiment.id, item_ids=set(named))
    }
    for result in results:
        old = previous.get((result["item_id"], result["scorer_version_id"]))
        if old is not None and old.declaration != _stored_result(result):
            raise ConflictError(
                f"A result of item {result['item_id']} for this scorer version was accepted differently."
            )

    now = utcnow()
    new_items = await _new_items(session, experiment, [i for i in declared.values() if i["id"] not in stored], now)
    stored.update({row.item_id: row for row in new_items})
    new_results = [
        ExperimentResultRow(
            experiment_id=experiment.id,
            item_id=r["item_id"],
            scorer_version_id=r["scorer_version_id"],
            declaration=_stored_result(r),
            accepted_at=now,
        )
        for r in results
        if (r["item_id"], r["scorer_version_id"]) not in previous
    ]
    await store.add_rows(session=session, rows=new_results)
    created_ids = {row.id for row in new_items} | {row.id for row in new_results}
    await _rebuild_results(session, experiment, {r["item_id"] for r in results}, stored)

    item_receipts = [
        Receipt(id=stored[i].item_id, created=stored[i].id in created_ids, accepted_at=stored[i].accepted_at)
        for i in named
    ]
    by_key = {(r.item_id, r.scorer_version_id): r for r in [*previous.values(), *new_results]}
    result_receipts = []
    for result in results:
        row = by_key[(result["item_id"], result["scorer_version_id"])]
        result_receipts.append(
            Receipt(
                id=row.id,
                created=row.id in created_ids,
                accepted_at=row.accepted_at,
                item_id=row.item_id,
                scorer_version_id=row.scorer_version_id,
                status=row.declaration.get("status", "ok"),
                error_code=row.declaration.get("error_code"),
            )
        )
    await session.commit()
    return item_receipts, result_receipts


def _stored_item(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "id": str(item["id"])}


def _stored_result(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "item_id": str(result["item_id"]), "scorer_version_id": str(result["scorer_version_id"])}


async def _new_items(
    session: Session, experiment: OfflineExperimentRow, items: list[dict[str, Any]], now: datetime
) -> list[ExperimentItemRow]:
    cases: dict[uuid.UUID, dict[str, Any]] = {}
    case_of: dict[uuid.UUID, uuid.UUID] = {}
    for item in items:
        case_id = uuid.uuid5(CASE_NAMESPACE, f"{experiment.suite_id}:{_case_key(item)}")
        cases.setdefault(case_id, _case_fields(payload_of(item)))
        case_of[item["id"]] = case_id
    await store.ensure_test_cases(
        session=session, environment_id=experiment.environment_id, suite_id=experiment.suite_id, cases=cases
    )
    repetitions = await store.next_repetitions(session=session, experiment_id=experiment.id, case_ids=set(cases))
    rows = []
    for item in items:
        case_id = case_of[item["id"]]
        rows.append(
            ExperimentItemRow(
                id=uuid7(),
                experiment_id=experiment.id,
                item_id=item["id"],
                declaration=_stored_item(item),
                test_case_id=case_id,
                repetition=repetitions[case_id],
                accepted_at=now,
            )
        )
        repetitions[case_id] += 1
    await store.add_rows(session=session, rows=rows)
    return rows


async def _rebuild_results(
    session: Session,
    experiment: OfflineExperimentRow,
    item_ids: set[uuid.UUID],
    items: dict[uuid.UUID, ExperimentItemRow],
) -> None:
    """Write the run's result row of each item from all of its accepted results."""
    results = await store.results_of_items(session=session, experiment_id=experiment.id, item_ids=item_ids)
    versions = await scorer_store.versions_with_scorers(
        session=session, environment_id=experiment.environment_id, version_ids={r.scorer_version_id for r in results}
    )
    by_item: dict[uuid.UUID, list[Verdict]] = defaultdict(list)
    for result in results:
        version, scorer = versions[result.scorer_version_id]
        by_item[result.item_id].append(verdict(_scorer_ref(version, scorer), result.declaration))
    run, _ = await run_store.get_run_with_snapshot(session=session, run_id=experiment.run_id)
    rows = []
    for item_id, verdicts in by_item.items():
        item = items[item_id]
        status, score, reason = case_outcome(verdicts)
        output = payload_of(item.declaration).get("output")
        rows.append(
            {
                "id": uuid7(),
                "run_id": run.id,
                "suite_id": experiment.suite_id,
                "environment_id": experiment.environment_id,
                "test_case_id": item.test_case_id,
                "repetition": item.repetition,
                "status": status.value,
                "score": score,
                "score_reason": reason,
                "agent_response": None if output is None else as_text(output),
                "tool_calls_made": [],
                "judge_tokens": 0,
                "evaluator_results": [v.to_dict() for v in verdicts],
                "error": reason if status == "error" else None,
                "overrides": [],
                "original_score": None,
                "created_at": utcnow(),
            }
        )
    await store.write_results(session=session, run=run, rows=rows)
    run.total_cases = (await store.counts(session=session, experiment_id=experiment.id))[0]


async def close(
    *, session: Session, environment_id: uuid.UUID, experiment_id: uuid.UUID, action: str
) -> OfflineExperimentRow:
    """`complete` (the declared counts must match what was accepted) or `fail` the experiment, finish its run
    (summary, the cases and scorers it used in its snapshot) and commit. Repeating the same close is a no-op."""
    experiment = await _experiment(session, environment_id, experiment_id)
    final = {"complete": "completed", "fail": "failed"}[action]
    if experiment.status == final:
        return experiment
    if experiment.status != "uploading":
        raise ConflictError(f"The experiment is already {experiment.status}.")
    items, results = await store.counts(session=session, experiment_id=experiment.id)
    if action == "complete":
        for name, expected, accepted in (
            ("expected_item_count", experiment.expected_item_count, items),
            ("expected_result_count", experiment.expected_result_count, results),
        ):
            if expected is not None and expected != accepted:
                raise ConflictError(f"{name} is {expected} but {accepted} were accepted.")
    now = utcnow()
    run, snapshot = await run_store.get_run_with_snapshot(session=session, run_id=experiment.run_id)
    run.snapshot = (await _final_snapshot(session, experiment, snapshot)).to_json()
    summary = await compute_summary(
        session, run.id, total_cases=items, started_at=run.started_at, finished_at=now, concurrency=None
    )
    await run_execution.record_finish(
        session=session,
        row=run,
        status=RunStatus.COMPLETED if action == "complete" else RunStatus.FAILED,
        finished_at=now,
        summary=summary,
        error=None if action == "complete" else "The experiment was marked failed by its uploader.",
    )
    run.total_cases = items
    experiment.status = final
    experiment.finished_at = now
    await run_execution.refresh_suite(session=session, suite_id=experiment.suite_id)
    await session.commit()
    return experiment


async def _final_snapshot(session: Session, experiment: OfflineExperimentRow, snapshot: RunSnapshot) -> RunSnapshot:
    """The run's snapshot with the cases it scored and a recipe item per scorer version it used."""
    case_ids, version_ids, repetitions = await store.experiment_shape(session=session, experiment_id=experiment.id)
    cases = [
        c for c in await suite_store.list_test_cases(session=session, suite_id=experiment.suite_id) if c.id in case_ids
    ]
    versions = await scorer_store.versions_with_scorers(
        session=session, environment_id=experiment.environment_id, version_ids=version_ids
    )
    items = tuple(
        RunItem(
            evaluator={
                "type": "scorer",
                "name": scorer.name,
                "kind": version.kind,
                "scorer_id": str(scorer.id),
                "scorer_version_id": str(version.id),
                "config": version.config,
            }
        )
        for version, scorer in sorted(versions.values(), key=lambda pair: (pair[1].name, pair[0].version))
    )
    return RunSnapshot(
        instance=snapshot.instance,
        instance_kind=snapshot.instance_kind,
        recipe=RunRecipe(items=items, pass_threshold=PASS_THRESHOLD),
        cases=tuple(
            CaseSpec(id=str(c.id), input_message=c.input_message, expected_behavior=c.expected_behavior) for c in cases
        ),
        repetitions=max(1, repetitions),
        concurrency=1,
        dataset=snapshot.dataset,
        experiment=snapshot.experiment,
    )
