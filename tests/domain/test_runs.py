"""Run snapshots: the stored JSON reads back into the same records and writes back unchanged."""

from __future__ import annotations

from typing import Any

from assay.domain.runs import AppliesTo, CaseSpec, RunSnapshot

CASES = [
    {"id": "c1", "input_message": "hi", "expected_behavior": "greets", "expected_tool_calls": None, "tags": []},
    {
        "id": "c2",
        "input_message": "go",
        "expected_behavior": " ",
        "expected_tool_calls": [{"name": "x"}],
        "tags": ["t"],
    },
]


def _snapshot(recipe: dict[str, Any]) -> dict[str, Any]:
    return {
        "concurrency_limits": {"requested": 4, "effective": 4},
        "instance": "encrypted",
        "instance_kind": "http",
        "recipe": recipe,
        "cases": CASES,
        "repetitions": 2,
        "concurrency": 4,
        "use_judge_cache": False,
    }


def test_a_recipe_snapshot_round_trips() -> None:
    stored = _snapshot(
        {
            "items": [{"evaluator": {"type": "contains", "value": "a"}, "weight": 2.0, "required": True}],
            "pass_threshold": 80.0,
            "implied_tool_call_match": {"type": "tool_call_match", "name": "expected_tool_calls"},
        }
    )
    snapshot = RunSnapshot.from_json(stored)
    assert snapshot.to_json() == stored
    assert snapshot.total_cases == 4
    recipe = snapshot.recipe
    assert [recipe.items_for(c) for c in snapshot.cases] == [[0], [0, 1]]
    assert [i.evaluator["type"] for i in recipe.listed_items] == ["contains"]


def test_the_default_recipe_keeps_its_stored_form_and_applies_per_case() -> None:
    judge = {"type": "llm_judge", "prompt": None, "output_type": "boolean"}
    calls = {"type": "tool_call_match", "arguments": "subset", "ordered": False, "allow_extra": True}
    stored = _snapshot({"default": True, "judge": judge, "tool_call_match": calls, "pass_threshold": 70.0})
    snapshot = RunSnapshot.from_json(stored)
    assert snapshot.to_json() == stored
    assert [i.applies_to for i in snapshot.recipe.items] == [AppliesTo.EXPECTED_BEHAVIOR, AppliesTo.EXPECTED_TOOL_CALLS]
    assert [snapshot.recipe.items_for(c) for c in snapshot.cases] == [[0], [1]]
    assert snapshot.recipe.items_for(CaseSpec(id="c3", input_message="x")) == []


def test_an_old_snapshot_without_later_keys_loads_with_defaults() -> None:
    old = {"instance": "encrypted", "recipe": {"items": [], "pass_threshold": 70}, "cases": CASES}
    snapshot = RunSnapshot.from_json(old)
    assert (snapshot.repetitions, snapshot.concurrency, snapshot.use_judge_cache) == (1, 50, True)
    assert snapshot.concurrency_limits is None and snapshot.instance_kind is None
