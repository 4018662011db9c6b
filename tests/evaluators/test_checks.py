"""Built-in deterministic checks."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.domain.outcomes import CaseOutcome, ToolCall
from assay.evaluators.checks import (
    CHECK_TYPES,
    extract_json_text,
    match_tool_calls,
    parse_check_config,
    run_check,
)


def outcome(output: str = "", **kw: object) -> CaseOutcome:
    return CaseOutcome(input="in", output=output, **kw)  # type: ignore[arg-type]


def check(cfg: dict, out: CaseOutcome):  # type: ignore[no-untyped-def]
    return run_check(parse_check_config(cfg), out)


# --- config validation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cfg", "loc", "needle"),
    [
        ({"type": "equals", "bogus": 1}, ("equals", "bogus"), "Extra inputs"),
        ({"type": "nope"}, (), "does not match any of the expected tags"),
        ({"type": "regex", "pattern": "("}, ("regex", "pattern"), "invalid regular expression"),
        ({"type": "regex", "pattern": r"(a)\1"}, ("regex", "pattern"), r"RE2 syntax): invalid escape sequence: \1"),
        ({"type": "regex", "pattern": "(?<!a)b"}, ("regex", "pattern"), "RE2 syntax): invalid perl operator: (?<!"),
        ({"type": "regex", "pattern": "a" * 1001}, ("regex", "pattern"), "at most 1000"),
        ({"type": "regex", "pattern": "a", "flags": "iz"}, ("regex", "flags"), "unknown regex flag"),
        (
            {"type": "json_schema", "schema": {"type": "nope"}},
            ("json_schema", "schema"),
            "invalid JSON schema at $.type",
        ),
        ({"type": "contains", "value": []}, ("contains", "value"), "at least one value"),
        ({"type": "contains", "value": ["a", ""]}, ("contains", "value"), "non-empty"),
        ({"type": "latency_budget", "max_ms": 0}, ("latency_budget", "max_ms"), "greater than 0"),
        ({"type": "token_budget", "max_tokens": -5}, ("token_budget", "max_tokens"), "greater than 0"),
        ({"type": "tool_call_match", "arguments": "fuzzy"}, ("tool_call_match", "arguments"), "subset"),
        (
            {"type": "tool_call_match", "expected": [{"name": ""}]},
            ("tool_call_match", "expected", 0, "name"),
            "at least 1",
        ),
    ],
)
def test_invalid_configs_are_rejected_with_a_located_message(cfg: dict, loc: tuple, needle: str) -> None:
    with pytest.raises(ValidationError) as ei:
        parse_check_config(cfg)
    err = ei.value.errors()[0]
    assert tuple(err["loc"]) == loc
    assert needle in err["msg"]


def test_every_type_has_a_config() -> None:
    minimal = {
        "equals": {},
        "contains": {"value": "x"},
        "not_contains": {"value": "x"},
        "regex": {"pattern": "x"},
        "json_schema": {"schema": {}},
        "tool_call_match": {},
        "latency_budget": {"max_ms": 1},
        "token_budget": {"max_tokens": 1},
    }
    assert set(minimal) == CHECK_TYPES
    for t, extra in minimal.items():
        assert parse_check_config({"type": t, **extra}).type == t


def test_nested_repeats_are_allowed_and_linear() -> None:
    for pattern in [r"\d+-\d+", r"(ab){2,5}", r"^[a-z]+(\.[a-z]+)?$", r"(?:x{1,3})+", "(a+)+$", r"(\w+\s?)*x"]:
        parse_check_config({"type": "regex", "pattern": pattern})
    started = time.monotonic()
    assert check({"type": "regex", "pattern": "(a|aa)+$"}, outcome("a" * 100_000 + "!")).status == "failed"
    assert check({"type": "regex", "pattern": "(x+x+)+y"}, outcome("x" * 100_000)).status == "failed"
    assert time.monotonic() - started < 0.5


def test_verbose_and_ascii_flags() -> None:
    cfg = {"type": "regex", "pattern": "\\d{3} - \\d{4}  # a phone number\n [ ]ok", "flags": "xa"}
    assert check(cfg, outcome("call 555-1234 ok")).status == "passed"
    assert check(cfg, outcome("call 555 - 1234 ok")).status == "failed"


def test_a_match_that_could_take_too_long_is_an_error_verdict() -> None:
    cfg = {"type": "regex", "pattern": "[ab]*a[ab]{999}c"}
    started = time.monotonic()
    v = check(cfg, outcome("ab" * 50_000))
    assert time.monotonic() - started < 0.5
    assert (v.status, v.score, v.passed) == ("error", None, None)
    assert v.reason.startswith("Regex too expensive") and v.error


def test_name_labels_the_verdict() -> None:
    v = check({"type": "equals", "value": "a", "name": "exact answer"}, outcome("a"))
    assert v.evaluator == "exact answer"
    assert check({"type": "equals", "value": "a"}, outcome("a")).evaluator == "equals"


# --- equals --------------------------------------------------------------------------


def test_equals_uses_value_then_expected() -> None:
    assert check({"type": "equals", "value": "Paris"}, outcome("Paris", expected="London")).status == "passed"
    v = check({"type": "equals"}, outcome("Paris", expected="London"))
    assert (v.status, v.score, v.passed) == ("failed", 0.0, False)
    assert "'Paris'" in v.reason and "'London'" in v.reason


def test_equals_not_applicable_without_target() -> None:
    v = check({"type": "equals"}, outcome("Paris"))
    assert v.status == "not_applicable" and v.score is None and v.passed is None
    assert "expected" in v.reason


def test_equals_options() -> None:
    assert check({"type": "equals", "value": "paris"}, outcome(" Paris\n")).status == "failed"
    assert check({"type": "equals", "value": "paris", "case_sensitive": False}, outcome(" Paris\n")).status == "passed"
    assert check({"type": "equals", "value": "a b", "strip": False}, outcome(" a b")).status == "failed"
    assert check({"type": "equals", "value": "a b c"}, outcome("a  b\n c")).status == "failed"
    assert (
        check({"type": "equals", "value": "a b c", "normalize_whitespace": True}, outcome("a  b\n c ")).status
        == "passed"
    )


# --- contains / not_contains ---------------------------------------------------------


def test_contains_single_and_lists() -> None:
    assert check({"type": "contains", "value": "cat"}, outcome("a cat sat")).status == "passed"
    v = check({"type": "contains", "value": ["cat", "dog", "mat"]}, outcome("a cat on a mat"))
    assert v.status == "failed" and v.score == pytest.approx(2 / 3)
    assert "'dog'" in v.reason and "cat" not in v.reason.split("missing")[1]
    assert check({"type": "contains", "value": ["dog", "mat"], "mode": "any"}, outcome("a mat")).status == "passed"
    v = check({"type": "contains", "value": ["dog", "cow"], "mode": "any"}, outcome("a mat"))
    assert v.status == "failed" and "none of" in v.reason


def test_contains_case_insensitive() -> None:
    assert check({"type": "contains", "value": "CAT"}, outcome("a cat")).status == "failed"
    assert check({"type": "contains", "value": "CAT", "case_sensitive": False}, outcome("a cat")).status == "passed"


def test_not_contains() -> None:
    assert check({"type": "not_contains", "value": ["sorry", "as an AI"]}, outcome("Sure!")).status == "passed"
    v = check({"type": "not_contains", "value": ["sorry", "as an AI"]}, outcome("sorry, no"))
    assert v.status == "failed" and v.score == 0.5 and "'sorry'" in v.reason
    assert check({"type": "not_contains", "value": ["a", "b"], "mode": "any"}, outcome("a")).status == "passed"
    assert check({"type": "not_contains", "value": ["a", "b"], "mode": "any"}, outcome("ab")).status == "failed"


# --- regex ---------------------------------------------------------------------------


def test_regex_search_fullmatch_flags_negate() -> None:
    v = check({"type": "regex", "pattern": r"\d{3}-\d{4}"}, outcome("call 555-1234 now"))
    assert v.status == "passed" and "555-1234" in v.reason
    assert (
        check({"type": "regex", "pattern": r"\d{3}-\d{4}", "fullmatch": True}, outcome("call 555-1234")).status
        == "failed"
    )
    assert check({"type": "regex", "pattern": "^yes$", "flags": "im"}, outcome("well\nYES\n")).status == "passed"
    assert check({"type": "regex", "pattern": "^yes$"}, outcome("well\nYES\n")).status == "failed"
    v = check({"type": "regex", "pattern": "password", "negate": True}, outcome("the password is x"))
    assert v.status == "failed" and "must not" in v.reason
    assert check({"type": "regex", "pattern": "password", "negate": True}, outcome("nothing")).status == "passed"


def test_regex_is_compiled_once() -> None:
    cfg = parse_check_config({"type": "regex", "pattern": "a+b"})
    assert cfg._compiled.pattern == "a+b"  # type: ignore[union-attr]
    assert run_check(cfg, outcome("xaab")).passed is True


# --- json_schema ---------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["name", "tags"],
    "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
}


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "x", "tags": ["a"]}',
        '```json\n{"name": "x", "tags": ["a"]}\n```',
        '  ```\n{"name": "x", "tags": []}\n```  ',
        '```JSON\n{"name": "x", "tags": []}```',
    ],
)
def test_json_schema_accepts_plain_and_fenced(text: str) -> None:
    v = check({"type": "json_schema", "schema": SCHEMA}, outcome(text))
    assert v.status == "passed", v.reason


def test_json_schema_reports_paths() -> None:
    v = check({"type": "json_schema", "schema": SCHEMA}, outcome('{"name": 3, "tags": ["a", 7]}'))
    assert v.status == "failed"
    assert "at $.name: 3 is not of type 'string'" in v.reason
    assert "at $.tags[1]: 7 is not of type 'string'" in v.reason
    assert {e["path"] for e in v.details["errors"]} == {"$.name", "$.tags[1]"}
    v = check({"type": "json_schema", "schema": SCHEMA}, outcome("{}"))
    assert "'name' is a required property" in v.reason


def test_json_schema_limits_listed_errors() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    v = check({"type": "json_schema", "schema": schema, "max_errors": 2}, outcome('["a","b","c","d"]'))
    assert v.reason.count("is not of type") == 2 and "(and 2 more)" in v.reason


def test_json_schema_refs() -> None:
    with pytest.raises(ValidationError, match="only references inside the schema"):
        parse_check_config({"type": "json_schema", "schema": {"$ref": "http://127.0.0.1:9/x.json"}})
    schema = {"$defs": {"s": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/s"}}}
    v = check({"type": "json_schema", "schema": schema}, outcome('{"x": 1}'))
    assert v.reason == "Output does not match the schema: at $.x: 1 is not of type 'string'."
    with_id = {"$id": "urn:ex", "properties": {"x": {"$ref": "urn:ex#/$defs/s"}}, "$defs": {"s": {"type": "string"}}}
    assert check({"type": "json_schema", "schema": with_id}, outcome('{"x": "a"}')).passed is True


def test_json_schema_invalid_json() -> None:
    v = check({"type": "json_schema", "schema": SCHEMA}, outcome("Sure! {name: x}"))
    assert v.status == "failed" and v.reason.startswith("Output is not valid JSON")


def test_extract_json_text() -> None:
    assert extract_json_text('```json\n{"a":1}\n```') == '{"a":1}'
    assert extract_json_text("  [1] ") == "[1]"
    assert extract_json_text("```json\nnot closed") == "```json\nnot closed"


# --- tool_call_match -----------------------------------------------------------------


def tc(name: str, **args: object) -> ToolCall:
    return ToolCall(name=name, arguments=dict(args))


def test_tool_calls_subset_unordered_pass() -> None:
    made = [tc("book", id=1), tc("search", q="paris", limit=5)]
    exp = [tc("search", q="paris"), tc("book")]
    v = check({"type": "tool_call_match"}, outcome(expected_tool_calls=exp, tool_calls=made))
    assert (v.status, v.score) == ("passed", 1.0)
    assert "All 2 expected" in v.reason


def test_tool_calls_partial_score_and_reason() -> None:
    made = [tc("search", q="london"), tc("weather", city="x")]
    exp = [tc("search", q="paris"), tc("book", id=2), tc("weather")]
    v = check({"type": "tool_call_match", "allow_extra": False}, outcome(expected_tool_calls=exp, tool_calls=made))
    assert v.status == "failed" and v.score == pytest.approx(1 / 3)
    assert "1/3 expected tool call(s) matched" in v.reason
    assert 'search: \'q\' expected "paris", got "london"' in v.reason
    assert 'missing: book({"id":2})' in v.reason
    assert v.details["unexpected"] == []


def test_tool_calls_extra_calls() -> None:
    made = [tc("search", q="a"), tc("log")]
    exp = [tc("search", q="a")]
    assert check({"type": "tool_call_match"}, outcome(expected_tool_calls=exp, tool_calls=made)).status == "passed"
    v = check({"type": "tool_call_match", "allow_extra": False}, outcome(expected_tool_calls=exp, tool_calls=made))
    assert v.status == "failed" and v.score == 1.0 and "unexpected: log({})" in v.reason


def test_tool_calls_argument_modes() -> None:
    made = [tc("f", a=1, b=2)]
    exp = [tc("f", a=1)]
    o = outcome(expected_tool_calls=exp, tool_calls=made)
    assert check({"type": "tool_call_match"}, o).passed is True
    v = check({"type": "tool_call_match", "arguments": "exact"}, o)
    assert v.passed is False and "unexpected argument 'b'" in v.reason
    assert check(
        {"type": "tool_call_match", "arguments": "ignore"}, outcome(expected_tool_calls=[tc("f", a=9)], tool_calls=made)
    ).passed


def test_tool_calls_nested_subset_and_types() -> None:
    made = [tc("f", opts={"x": 1, "y": [1, 2]}, flag=True)]
    assert match_tool_calls([tc("f", opts={"x": 1})], made).matched == 1
    assert match_tool_calls([tc("f", opts={"y": [1]})], made).matched == 0  # lists compare whole
    assert match_tool_calls([tc("f", flag=1)], made).matched == 0  # 1 is not True
    assert match_tool_calls([tc("f", opts={"x": 1.0})], made).matched == 1


def test_tool_calls_json_string_arguments() -> None:
    made = [ToolCall(name="f", arguments='{"a": 1, "b": 2}')]  # type: ignore[arg-type]
    assert match_tool_calls([tc("f", a=1)], made).matched == 1


def test_tool_calls_ordered() -> None:
    made = [tc("b"), tc("a")]
    exp = [tc("a"), tc("b")]
    assert check({"type": "tool_call_match"}, outcome(expected_tool_calls=exp, tool_calls=made)).passed is True
    v = check({"type": "tool_call_match", "ordered": True}, outcome(expected_tool_calls=exp, tool_calls=made))
    assert v.passed is False and v.score == 0.5 and "different order" in v.reason
    made = [tc("a"), tc("x"), tc("b")]
    assert check({"type": "tool_call_match", "ordered": True}, outcome(expected_tool_calls=exp, tool_calls=made)).passed


def test_tool_calls_maximum_matching_not_greedy() -> None:
    # a greedy pass would give the generic expectation the specific call and then miss the specific one
    made = [tc("f", x=1), tc("f", x=2)]
    exp = [tc("f"), tc("f", x=1)]
    assert match_tool_calls(exp, made).matched == 2


def test_tool_calls_config_expected_overrides_case_and_na() -> None:
    o = outcome(tool_calls=[tc("a")])
    assert check({"type": "tool_call_match"}, o).status == "not_applicable"
    assert check({"type": "tool_call_match", "expected": [{"name": "a"}]}, o).status == "passed"
    v = check({"type": "tool_call_match", "allow_extra": False}, outcome(expected_tool_calls=[], tool_calls=[tc("a")]))
    assert v.status == "failed" and v.score == 0.0
    v = check({"type": "tool_call_match"}, outcome(expected_tool_calls=[], tool_calls=[]))
    assert v.status == "passed" and "No tool call expected" in v.reason


@given(
    st.lists(st.sampled_from("abc"), max_size=5),
    st.lists(st.sampled_from("abc"), max_size=6),
    st.booleans(),
)
def test_tool_match_counts_are_consistent(exp_names: list[str], made_names: list[str], ordered: bool) -> None:
    exp = [tc(n) for n in exp_names]
    made = [tc(n) for n in made_names]
    r = match_tool_calls(exp, made, ordered=ordered)
    assert r.matched + len(r.missing) + len(r.mismatched) == len(exp)
    assert r.matched + len(r.unexpected) + len(r.mismatched) == len(made)
    if not ordered:  # unordered matching by name alone is the multiset intersection
        assert r.matched == sum(min(exp_names.count(c), made_names.count(c)) for c in "abc")


# --- budgets -------------------------------------------------------------------------


def test_latency_budget() -> None:
    assert check({"type": "latency_budget", "max_ms": 500}, outcome(latency_ms=500)).passed is True
    v = check({"type": "latency_budget", "max_ms": 500}, outcome(latency_ms=812.4))
    assert v.passed is False and "812 ms exceeds the 500 ms" in v.reason
    assert check({"type": "latency_budget", "max_ms": 500}, outcome()).status == "not_applicable"


def test_token_budget() -> None:
    assert check({"type": "token_budget", "max_tokens": 100}, outcome(tokens=100)).passed is True
    v = check({"type": "token_budget", "max_tokens": 100}, outcome(tokens=101))
    assert v.passed is False and "101 tokens exceeds" in v.reason
    assert check({"type": "token_budget", "max_tokens": 100}, outcome()).status == "not_applicable"


def test_every_verdict_has_a_reason() -> None:
    o = outcome('{"a": 1}', expected="x", tool_calls=[tc("a")], expected_tool_calls=[tc("b")], latency_ms=1, tokens=1)
    for cfg in [
        {"type": "equals"},
        {"type": "contains", "value": "a"},
        {"type": "not_contains", "value": "a"},
        {"type": "regex", "pattern": "z"},
        {"type": "json_schema", "schema": {"type": "array"}},
        {"type": "tool_call_match"},
        {"type": "latency_budget", "max_ms": 5},
        {"type": "token_budget", "max_tokens": 5},
    ]:
        v = check(cfg, o)
        assert v.reason.strip() and v.status in ("passed", "failed")
        assert 0.0 <= v.score <= 1.0  # type: ignore[operator]


def test_unexpected_exception_becomes_error_verdict() -> None:
    cfg = parse_check_config({"type": "contains", "value": "x"})
    v = run_check(cfg, CaseOutcome(input="", output=None))  # type: ignore[arg-type]
    assert v.status == "error" and v.error and "contains" in v.reason


def test_json_schema_regexes_run_on_re2() -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "(a|aa)+$"}},
        "patternProperties": {"^x(a+)+$": {"type": "integer"}},
        "additionalProperties": False,
    }
    cfg = {"type": "json_schema", "schema": schema}
    started = time.monotonic()
    v = check(cfg, outcome(json.dumps({"name": "a" * 50_000 + "!", "x" + "a" * 50_000: "no", "y": 1})))
    assert time.monotonic() - started < 0.5
    assert v.status == "failed"
    messages = [e["message"] for e in v.details["errors"]]
    assert any("does not match '(a|aa)+$'" in m for m in messages)
    assert any("is not of type 'integer'" in m for m in messages)
    assert any("'y' do(es) not match any of the regexes" in m for m in messages)
    ok = {"name": "aa", "xaa": 3}
    assert check(cfg, outcome(json.dumps(ok))).status == "passed"


@pytest.mark.parametrize("schema", [{"pattern": "(a)\\1"}, {"patternProperties": {"(?=x)": {}}}])
def test_json_schema_regexes_re2_cannot_compile_are_refused(schema: dict) -> None:
    with pytest.raises(ValidationError, match=r"invalid regular expression .* \(RE2 syntax\): invalid"):
        parse_check_config({"type": "json_schema", "schema": {"type": "object", "properties": {"a": schema}}})
