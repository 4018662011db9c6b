"""Comparing runs and measuring judge agreement: `/v1/evaluations/{evaluation_id}/compare` and `/agreement`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from assay.api.deps import Principal, SessionDep, tenant_access
from assay.domain.agreement import agreement_report
from assay.services.analysis import compare_suite_runs
from assay.storage import analysis as store
from assay.storage import suites as suite_store

router = APIRouter(prefix="/v1/evaluations/{evaluation_id}", tags=["Evaluations"])
Access = Annotated[Principal, Depends(tenant_access("evaluation"))]


class RunFigures(BaseModel):
    task_id: str
    status: str
    results: int
    cases: int
    errors: int
    latency_p50_ms: float | None
    latency_mean_ms: float | None
    tokens_total: int
    tokens_mean: float | None


class ScoreChange(BaseModel):
    mean_base: float | None
    mean_head: float | None
    mean_difference: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    resamples: int
    seed: int


class Wilcoxon(BaseModel):
    statistic: float | None
    p_value: float | None
    n_nonzero: int
    method: str


class SignTest(BaseModel):
    p_value: float | None
    n_positive: int
    n_negative: int
    n_zero: int


class PassRateChange(BaseModel):
    base: float | None
    head: float | None
    change: float | None


class LatencyChange(BaseModel):
    p50_base_ms: float | None
    p50_head_ms: float | None
    p50_change_ms: float | None
    mean_base_ms: float | None
    mean_head_ms: float | None
    mean_change_ms: float | None


class TokenChange(BaseModel):
    mean_base: float | None
    mean_head: float | None
    mean_change: float | None
    total_base: int
    total_head: int
    total_change: int


class CaseChange(BaseModel):
    test_case_id: str
    base_score: float
    head_score: float
    difference: float
    base_pass_rate: float
    head_pass_rate: float
    base_reason: str | None
    head_reason: str | None


class Unpaired(BaseModel):
    base_only: list[str]
    head_only: list[str]
    unscored: list[str]


class CompareResponse(BaseModel):
    evaluation_id: uuid.UUID
    n_paired: int
    alpha: float
    base: RunFigures
    head: RunFigures
    score: ScoreChange
    wilcoxon: Wilcoxon
    sign_test: SignTest
    pass_rate: PassRateChange
    latency: LatencyChange
    tokens: TokenChange
    regressed: list[CaseChange]
    improved: list[CaseChange]
    unpaired: Unpaired
    significant_regression: bool


class HumanAgreement(BaseModel):
    n: int
    agreement_rate: float | None
    kappa: float | None
    mean_absolute_error: float | None
    judge_pass_rate: float | None
    human_pass_rate: float | None


class RepetitionStability(BaseModel):
    cases: int
    mean_score_sd: float | None
    mean_score_range: float | None
    flip_rate: float | None


class EvaluatorAgreement(BaseModel):
    evaluator: str
    type: str | None
    human: HumanAgreement | None
    repetitions: RepetitionStability | None


class AgreementResponse(BaseModel):
    evaluation_id: uuid.UUID
    task_id: str | None
    runs: int
    reviewed_results: int
    repeated_runs: int
    evaluators: list[EvaluatorAgreement]


@router.get("/compare")
async def compare(
    evaluation_id: uuid.UUID,
    session: SessionDep,
    principal: Access,
    base: Annotated[uuid.UUID, Query(description="Task id of the baseline run.")],
    head: Annotated[uuid.UUID, Query(description="Task id of the run compared with the baseline.")],
    alpha: Annotated[float, Query(gt=0, lt=1, description="Significance level for the regression flag.")] = 0.05,
) -> CompareResponse:
    """Compare Runs: paired per-case score change with a bootstrap CI, Wilcoxon and sign tests, pass rate,
    latency and tokens, regressed/improved cases; `significant_regression` when the drop has p < alpha."""
    comparison = await compare_suite_runs(
        session=session,
        environment_id=principal.environment_id,
        suite_id=evaluation_id,
        base_id=base,
        head_id=head,
        alpha=alpha,
    )
    return CompareResponse.model_validate({"evaluation_id": comparison.suite.id, **comparison.body})


@router.get("/agreement")
async def agreement(
    evaluation_id: uuid.UUID,
    session: SessionDep,
    principal: Access,
    task_id: Annotated[
        uuid.UUID | None, Query(description="Only this run; default: every run of the evaluation.")
    ] = None,
) -> AgreementResponse:
    """Judge Agreement: per evaluator (and the case score), agreement with human overrides (rate, Cohen's
    kappa, mean absolute error) and stability across repetitions (score spread, verdict flip rate)."""
    suite = await suite_store.get_suite(
        session=session, environment_id=principal.environment_id, suite_id=evaluation_id
    )
    if task_id is not None:
        await store.get_suite_run(
            session=session, environment_id=principal.environment_id, suite_id=suite.id, run_id=task_id
        )
    runs = await store.run_infos(session=session, suite_id=suite.id, run_id=task_id)
    points = await store.review_points(session=session, run_ids=list(runs))
    report = agreement_report(points, runs)
    return AgreementResponse.model_validate(
        {"evaluation_id": suite.id, "task_id": str(task_id) if task_id else None, **report}
    )
