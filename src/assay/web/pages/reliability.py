"""Judge reliability for a suite: agreement with human overrides and self-consistency across repetitions,
per evaluator, with the cases that drive disagreement (each linking to its result); then agreement per
reviewer and between reviewers (`domain/reviewer_agreement.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from assay.domain.reliability import reliability_report
from assay.domain.reviewer_agreement import inter_annotator, per_reviewer_agreement
from assay.storage import analysis as analysis_store
from assay.storage import suites as suite_store
from assay.storage.case_inputs import case_inputs
from assay.storage.suite_page import key_labels
from assay.web.auth import DbSession, User
from assay.web.errors import mark_page
from assay.web.templating import render

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)


@router.get("/suites/{suite_id}/reliability")
async def reliability_page(request: Request, suite_id: uuid.UUID, session: DbSession, user: User) -> Response:
    """Per evaluator: kappa with its bootstrap CI, agreement, MAE, confusion matrix, flip rate and spread."""
    user.require_read("evaluation")
    suite = await suite_store.get_suite(session=session, environment_id=user.environment_id, suite_id=suite_id)
    runs = await analysis_store.run_infos(session=session, suite_id=suite.id)
    # Runs without repetitions count only through their reviewed results: read just those of them.
    repeated = [run_id for run_id, info in runs.items() if info.repetitions > 1]
    single = [run_id for run_id, info in runs.items() if info.repetitions <= 1]
    points = await analysis_store.review_points(session=session, run_ids=repeated)
    points += await analysis_store.review_points(session=session, run_ids=single, reviewed_only=True)
    report = reliability_report(points, runs)
    shown = [p.test_case_id for e in report["evaluators"] for p in e["disagreements"]]
    shown += [f.test_case_id for e in report["evaluators"] for f in e["flips"]]
    inputs = await case_inputs(session=session, suite_id=suite.id, case_ids=shown)
    latest = max(runs, key=uuid.UUID) if runs else None
    reviewed = [p for p in points if p.overridden]
    overrides = await analysis_store.override_entries(session=session, run_ids=list(runs))
    reviewers = per_reviewer_agreement(reviewed, overrides, runs)
    pairs = inter_annotator(reviewed, overrides, runs)
    labels = await key_labels(session=session, environment_id=user.environment_id, key_ids=_key_ids(reviewers))
    context = {
        "suite": suite,
        "report": report,
        "inputs": inputs,
        "latest": latest,
        "reviewers": reviewers,
        "pairs": pairs,
        "reviewer_labels": labels,
    }
    return render(request, "reliability.html", context)


def _key_ids(reviewers: Mapping[str, object]) -> list[uuid.UUID]:
    """Reviewers recorded by an API key's id (a person is recorded by name and email)."""
    ids = []
    for name in reviewers:
        try:
            ids.append(uuid.UUID(name))
        except ValueError:
            continue
    return ids
