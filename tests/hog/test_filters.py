"""Property-filter compilation, checked by running the bytecode on the reference @posthog/hogvm."""

from __future__ import annotations

from typing import Any

import pytest

from assay.hog.filters import FilterCompileError, compile_property_filters
from assay.hog.vm import execute_bytecode

EVENT_PROPS = {
    "$ai_model": "gpt-4",
    "name": "Hello World",
    "path": "/docs/a_b",
    "tokens": 150,
    "price": "12.5",
    "flag": True,
    "when": "2024-03-10T12:00:00Z",
    "nothing": None,
}
PERSON_PROPS = {"email": "ada@example.com", "plan": "pro"}


def _globals() -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "elements_chain": "",
        "distinct_id": "user-1",
        "person": {"properties": PERSON_PROPS},
        "properties": EVENT_PROPS,
    }


def f(key: str, operator: str, value: Any = None, type_: str = "event") -> dict[str, Any]:
    return {"key": key, "operator": operator, "value": value, "type": type_}


# (filters, expected match)
CASES: list[tuple[list[dict[str, Any]], bool]] = [
    ([], True),
    ([f("$ai_model", "exact", "gpt-4")], True),
    ([f("$ai_model", "exact", "gpt-3")], False),
    ([f("$ai_model", "exact", ["gpt-3", "gpt-4"])], True),
    ([f("$ai_model", "exact", ["gpt-3", "claude"])], False),
    ([f("$ai_model", "exact", ["gpt-4"])], True),
    ([f("$ai_model", "exact", [])], True),
    ([f("tokens", "exact", 150)], True),
    ([f("$ai_model", "is_not", "gpt-4")], False),
    ([f("$ai_model", "is_not", "gpt-3")], True),
    ([f("$ai_model", "is_not", ["gpt-3", "gpt-4"])], False),
    ([f("$ai_model", "is_not", ["gpt-3", "claude"])], True),
    ([f("missing", "is_not", "x")], True),
    ([f("name", "icontains", "WORLD")], True),
    ([f("name", "icontains", "planet")], False),
    ([f("name", "icontains", ["planet", "hello"])], True),
    ([f("path", "icontains", "A_B")], True),
    ([f("path", "icontains", "a%b")], False),
    ([f("missing", "icontains", "x")], False),
    ([f("name", "not_icontains", "world")], False),
    ([f("name", "not_icontains", "planet")], True),
    ([f("name", "not_icontains", ["planet", "hello"])], False),
    ([f("missing", "not_icontains", "x")], True),
    ([f("$ai_model", "regex", "^gpt-\\d$")], True),
    ([f("$ai_model", "regex", "^claude")], False),
    ([f("missing", "regex", ".*")], False),
    ([f("$ai_model", "not_regex", "^claude")], True),
    ([f("$ai_model", "not_regex", "gpt")], False),
    ([f("missing", "not_regex", "x")], True),
    ([f("tokens", "gt", 100)], True),
    ([f("tokens", "gt", "150")], False),
    ([f("tokens", "gte", "150")], True),
    ([f("tokens", "lt", 150)], False),
    ([f("tokens", "lte", 150)], True),
    ([f("price", "gt", 12)], True),
    ([f("price", "lt", "12.4")], False),
    ([f("missing", "gt", 0)], False),
    ([f("tokens", "min", 150)], True),
    ([f("tokens", "min", 151)], False),
    ([f("tokens", "max", 150)], True),
    ([f("tokens", "max", 149)], False),
    ([f("tokens", "between", [100, 200])], True),
    ([f("tokens", "between", ["151", "200"])], False),
    ([f("tokens", "not_between", [100, 200])], False),
    ([f("tokens", "not_between", [151, 200])], True),
    ([f("$ai_model", "is_set")], True),
    ([f("missing", "is_set")], False),
    ([f("nothing", "is_set")], False),
    ([f("missing", "is_not_set")], True),
    ([f("$ai_model", "is_not_set")], False),
    ([f("when", "is_date_after", "2024-03-01")], True),
    ([f("when", "is_date_after", "2024-04-01")], False),
    ([f("when", "is_date_before", "2024-04-01")], True),
    ([f("when", "is_date_before", "2024-03-01")], False),
    ([f("missing", "is_date_before", "2030-01-01")], False),
    ([f("when", "is_date_exact", "2024-03-10")], True),
    ([f("when", "is_date_exact", "2024-03-11")], False),
    ([f("$ai_model", "in", ["gpt-4", "claude"])], True),
    ([f("$ai_model", "in", ["claude"])], False),
    ([f("$ai_model", "not_in", ["claude"])], True),
    ([f("$ai_model", "not_in", ["gpt-4", "claude"])], False),
    ([f("email", "icontains", "@example.com", "person")], True),
    ([f("plan", "exact", "free", "person")], False),
    ([f("plan", "exact", "pro", "person"), f("tokens", "gt", 100)], True),
    ([f("plan", "exact", "pro", "person"), f("tokens", "gt", 200)], False),
    ([{"key": "$ai_model", "value": "gpt-4"}], True),  # operator defaults to exact, type to event
]


@pytest.fixture(scope="module")
def outcomes(run_node) -> list[dict[str, Any]]:
    programs = [{"bytecode": compile_property_filters(filters), "globals": _globals()} for filters, _ in CASES]
    return run_node(programs)


@pytest.mark.node
@pytest.mark.parametrize(
    "index",
    range(len(CASES)),
    ids=lambda i: f"{i}-{CASES[i][0][0].get('operator', 'default') if CASES[i][0] else 'empty'}",
)
def test_filter_matches_on_reference_vm(outcomes: list[dict[str, Any]], index: int) -> None:
    filters, expected = CASES[index]
    outcome = outcomes[index]
    assert outcome["error"] is None, (filters, outcome)
    assert outcome["result"] is expected, (filters, outcome)


def test_empty_filters_compile_to_true() -> None:
    assert compile_property_filters([]) == ["_H", 1, 29, 38]


def test_event_filter_reads_properties_and_person_filter_reads_person_properties() -> None:
    event = compile_property_filters([f("k", "is_set")])
    person = compile_property_filters([f("k", "is_set", type_="person")])
    assert event[2:] == [31, 32, "k", 32, "properties", 1, 2, 12, 38]
    assert person[2:] == [31, 32, "k", 32, "properties", 32, "person", 1, 3, 12, 38]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([f("k", "sounds_like", "x")], "Unknown property filter operator 'sounds_like'"),
        ([f("k", "exact", "x", "cohort")], "Unsupported property filter type 'cohort'"),
        ([f("k", "gt", "abc")], "needs a number"),
        ([f("k", "between", [1])], "needs a [low, high] list"),
        ([{"operator": "exact", "value": 1}], "non-empty string key"),
        (["not a dict"], "must be an object"),
        ([f("k", "exact", {"a": 1})], "Unsupported filter value"),
        ([f("k", "regex", "(a)\\1")], "Invalid regex pattern '\\(a\\)\\\\\\\\1': invalid escape sequence"),
        ([f("k", "not_regex", ["ok", "(?=x)"])], "Invalid regex pattern .*: invalid perl operator"),
    ],
)
def test_bad_filters_raise_value_error(filters: list[Any], message: str) -> None:
    with pytest.raises(FilterCompileError, match=message.replace("[", r"\[")) as info:
        compile_property_filters(filters)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "filters",
    [
        [f("missing", "lt", 10)],
        [f("missing", "max", 10)],
        [f("nothing", "lte", 0)],
        [f("missing", "not_between", [1, 2])],
    ],
)
def test_numeric_filters_never_match_a_missing_property(filters: list[dict[str, Any]]) -> None:
    # Ordering against null is false in PostHog (as in SQL); the published JavaScript VM reads null as 0.
    assert execute_bytecode(compile_property_filters(filters), _globals()).result is False
