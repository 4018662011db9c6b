"""Scorer configurations and what an uploaded value of one means: pass, fail, or no judgement."""

from __future__ import annotations

import pytest

from assay.domain.scorers import ScorerConfigError, ScorerRef, case_outcome, check_value, validate_config, verdict
from assay.domain.statuses import ResultStatus


def _ref(kind: str, config: dict) -> ScorerRef:  # noqa: ANN001
    return ScorerRef(
        name=kind, kind=kind, config=validate_config(kind, config), scorer_id="s", version_id="v", version=1
    )


def test_each_kind_passes_by_its_rule() -> None:
    assert verdict(_ref("boolean", {}), {"value": True}).passed is True
    assert verdict(_ref("boolean", {"true_is_failure": True}), {"value": True}).passed is False
    rule = {"min": 0, "max": 10, "passing_rule": {"operator": "lte", "threshold": 3}}
    low = verdict(_ref("numeric", rule), {"value": 2})
    assert (low.passed, low.score) == (True, 0.2)
    assert verdict(_ref("numeric", {"min": 0, "max": 1}), {"value": 0.4}).status == "not_applicable"  # no rule
    options = [{"key": k, "label": k.title()} for k in ("good", "meh", "bad")]
    categorical = _ref(
        "categorical",
        {"options": options, "selection_mode": "multiple", "passing_rule": {"categories": ["good", "meh"]}},
    )
    assert verdict(categorical, {"value": ["good", "meh"]}).passed is True
    assert verdict(categorical, {"value": ["good", "bad"]}).passed is False
    errored = verdict(_ref("boolean", {}), {"status": "error", "payload": {"error_message": "timeout"}})
    assert (errored.status, errored.error) == ("error", "timeout")


def test_values_and_configs_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ScorerConfigError):
        validate_config("numeric", {"min": 5, "max": 1})
    with pytest.raises(ScorerConfigError):
        validate_config("numeric", {"min": 0, "max": 1, "passing_rule": {"operator": "gte", "threshold": 2}})
    with pytest.raises(ScorerConfigError):
        validate_config("categorical", {"options": []})
    with pytest.raises(ScorerConfigError):
        check_value("boolean", {}, 1)
    with pytest.raises(ScorerConfigError):
        check_value("numeric", {"min": 0, "max": 1}, 3)
    single = validate_config("categorical", {"options": [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]})
    with pytest.raises(ScorerConfigError):
        check_value("categorical", single, ["a", "b"])


def test_a_case_passes_when_every_judging_scorer_passes() -> None:
    yes, no = (verdict(_ref("boolean", {}), {"value": v}) for v in (True, False))
    assert case_outcome([yes, yes]) == (ResultStatus.PASSED, 100.0, "2 of 2 scorers passed")
    status, score, _ = case_outcome([yes, no])
    assert (status, score) == (ResultStatus.FAILED, 50.0)
    failed = verdict(_ref("boolean", {}), {"status": "error"})
    assert case_outcome([failed])[0] == ResultStatus.ERROR
    assert case_outcome([verdict(_ref("boolean", {}), {"status": "skipped"})])[0] == ResultStatus.UNSCORED
