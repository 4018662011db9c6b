"""Standard-library behaviour, run through compiled Hog programs."""

from __future__ import annotations

from typing import Any

import pytest

from assay.hog.compiler import compile_program
from assay.hog.errors import HogRuntimeError
from assay.hog.vm import execute_bytecode


def ev(expr: str, globals: dict[str, Any] | None = None) -> Any:
    return execute_bytecode(compile_program(f"return {expr}"), globals).result


def printed(source: str, globals: dict[str, Any] | None = None) -> list[str]:
    return execute_bytecode(compile_program(source), globals).stdout


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("lower('AbC')", "abc"),
        ("upper('abc')", "ABC"),
        ("reverse('abc')", "cba"),
        ("trim('  hi  ')", "hi"),
        ("trimLeft('xxhixx', 'x')", "hixx"),
        ("trimRight('xxhixx', 'x')", "xxhi"),
        ("trim('hi', 'ab')", ""),
        ("replaceAll('a-b-c', '-', '+')", "a+b+c"),
        ("replaceOne('a-b-c', '-', '+')", "a+b-c"),
        ("splitByString(',', 'a,b,c')", ["a", "b", "c"]),
        ("splitByString(',', 'a,b,c', 2)", ["a", "b"]),
        ("substring('hello', 2, 3)", "ell"),
        ("substring('hello', 0, 3)", ""),
        ("position('hello', 'l')", 3),
        ("position('hello', 'z')", 0),
        ("positionCaseInsensitive('HELLO', 'l')", 3),
        ("concat('a', 1, null, true, [1])", "a1true[1]"),
        ("startsWith('hello', 'he')", True),
        ("length('héllo')", 5),
        ("length([1, 2])", 2),
        ("empty('')", True),
        ("empty(0)", False),
        ("empty({})", True),
        ("notEmpty([1])", True),
    ],
)
def test_strings_and_emptiness(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("typeof(1)", "integer"),
        ("typeof(1.5)", "float"),
        ("typeof('a')", "string"),
        ("typeof(null)", "null"),
        ("typeof([])", "array"),
        ("typeof((1, 2))", "tuple"),
        ("typeof({})", "object"),
        ("typeof(x -> x)", "function"),
        ("typeof(Error('e'))", "error"),
        ("typeof(now())", "datetime"),
        ("toString(1.0)", "1"),
        ("toString([1, 'a', null])", "[1, 'a', null]"),
        ("toString({'a': true})", "{'a': true}"),
        ("toInt('42abc')", 42),
        ("toInt('abc')", None),
        ("toFloat('1.5')", 1.5),
        ("toFloat('x')", None),
        ("toUUID('abc')", "abc"),
    ],
)
def test_types_and_conversions(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("arrayPushBack([1], 2)", [1, 2]),
        ("arrayPushFront([1], 2)", [2, 1]),
        ("arrayPopBack([1, 2])", [1]),
        ("arrayPopFront([1, 2])", [2]),
        ("arraySort([3, 10, 2])", [10, 2, 3]),
        ("arrayReverseSort(['a', 'c', 'b'])", ["c", "b", "a"]),
        ("arrayReverse([1, 2, 3])", [3, 2, 1]),
        ("arrayStringConcat(['a', null, 1], '-')", "a--1"),
        ("has([1, 2], 2)", True),
        ("has([[1]], [1])", False),
        ("indexOf([5, 6], 6)", 2),
        ("keys({'a': 1, 'b': 2})", ["a", "b"]),
        ("values({'a': 1, 'b': 2})", [1, 2]),
        ("keys(['x', 'y'])", [0, 1]),
        ("range(3)", [0, 1, 2]),
        ("range(2, 5)", [2, 3, 4]),
        ("arrayMap(x -> x * 2, [1, 2])", [2, 4]),
        ("arrayFilter(x -> x > 1, [1, 2, 3])", [2, 3]),
        ("arrayExists(x -> x = 'b', ['a', 'b'])", True),
        ("arrayCount(x -> x > 1, [1, 2, 3])", 2),
        ("arrayReduce((acc, x) -> acc + x, [1, 2, 3], 10)", 16),
        ("tuple(1, 2)", (1, 2)),
    ],
)
def test_arrays_and_dicts(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("round(2.5)", 3),
        ("round(-2.5)", -2),
        ("floor(2.7)", 2),
        ("min2(3, 1)", 1),
        ("plus(1, 2)", 3),
        ("plus('a', 1)", "a1"),
        ("minus(5, 2)", 3),
        ("if(1, 'y', 'n')", "y"),
        ("multiIf(false, 1, true, 2, 3)", 2),
        ("coalesce(null, null, 3)", 3),
        ("ifNull(null, 'x')", "x"),
        ("isNull(null)", True),
        ("equals(1, 1)", True),
        ("greater(2, 1)", True),
    ],
)
def test_math_and_logic(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("'abc' like 'a%'", True),
        ("'abc' like 'A%'", False),
        ("'abc' ilike 'A%'", True),
        ("'a.c' like 'a_c'", True),
        ("'abc' not like '%z%'", True),
        ("'abc' =~ '^a.c$'", True),
        ("'ABC' =~* 'abc'", True),
        ("'abc' !~ 'z'", True),
        ("match('a1b2', '\\\\d')", True),
        ("extractRegex('id=42;', 'id=(\\\\d+)')", "42"),
        ("'' =~ ''", False),
        ("like('abc', '%b%')", True),
        ("notILike('ABC', '%b%')", False),
    ],
)
def test_like_and_regex(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a|b", "missing \\)"),
        ("(?=x)", "invalid perl operator: \\(\\?="),
        ("(?<=x)y", "invalid perl operator: \\(\\?<="),
        ("(a)\\\\1", "invalid escape sequence: \\\\1"),
        ("a{1001}", "invalid repetition size"),
    ],
)
def test_patterns_re2_cannot_compile_fail_with_its_reason(pattern: str, reason: str) -> None:
    for expr in (f"'aaaa' =~ '{pattern}'", f"match('aaaa', '{pattern}')", f"extractRegex('aaaa', '{pattern}')"):
        with pytest.raises(HogRuntimeError, match=f"^Invalid regex pattern: .*{reason}"):
            ev(expr)


def test_nested_repetition_is_fine_with_re2() -> None:
    assert ev("'aaaa' =~ '(a+)+$'") is True
    assert ev("extractRegex('xx aaab', '((a|aa)+)b')") == "aaa"
    assert ev("sortableSemver('v1.20.3-beta')") == [1, 20, 3]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("jsonParse('{\"a\": [1, 2.5, null]}')", {"a": [1, 2.5, None]}),
        ("jsonStringify({'a': [1, 2.0, null, true]})", '{"a":[1,2,null,true]}'),
        ("jsonStringify({'a': 1}, 2)", '{\n  "a": 1\n}'),
        ("jsonStringify('é\\n')", '"é\\n"'),
        ("isValidJSON('{')", False),
        ("isValidJSON('NaN')", False),
        ("JSONHas('{\"a\": {\"b\": 1}}', 'a', 'b')", True),
        ("JSONHas('[1, 2]', 3)", False),
        ("JSONLength('{\"a\": [1, 2, 3]}', 'a')", 3),
        ("JSONExtractString('{\"a\": 5}', 'a')", "5"),
        ("JSONExtractInt('{\"a\": \"12\"}', 'a')", 12),
        ("JSONExtractFloat('{\"a\": 1.5}', 'a')", 1.5),
        ("JSONExtractBool('{\"a\": true}', 'a')", True),
        ("JSONExtractArrayRaw('{\"a\": [1]}', 'a')", [1]),
        ("JSONExtract('{\"a\": {\"b\": 2}}', 'a', 'b', 'Int64')", 2),
    ],
)
def test_json(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("base64Encode('héllo')", "aMOpbGxv"),
        ("base64Decode('aMOpbGxv')", "héllo"),
        ("encodeURLComponent('a b&c/é')", "a%20b%26c%2F%C3%A9"),
        ("decodeURLComponent('a%20b%C3%A9')", "a bé"),
        ("tryDecodeURLComponent('%E0%A4%A')", None),
        ("md5Hex('abc')", "900150983cd24fb0d6963f7d28e17f72"),
        ("sha256Hex('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("sha1Hex('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("length(generateUUIDv4())", 36),
        ("isIPAddressInRange('10.1.2.3', '10.0.0.0/8')", True),
    ],
)
def test_encoding_and_hashing(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("toUnixTimestamp(toDateTime('2024-01-02T03:04:05Z'))", 1704164645.0),
        ("toUnixTimestamp('2024-01-02 03:04:05')", 1704164645.0),
        ("formatDateTime(toDateTime('2024-03-05T06:07:08Z'), '%Y-%m-%d %H:%i:%S')", "2024-03-05 06:07:08"),
        ("formatDateTime(fromUnixTimestamp(0), '%a %b %e')", "Thu Jan 1"),
        ("toString(toDate('2024-03-05'))", "2024-03-05"),
        ("toString(fromUnixTimestamp(1.5))", "1970-01-01T00:00:01.500Z"),
        ("toString(toTimeZone(fromUnixTimestamp(0), 'Europe/Berlin'))", "1970-01-01T01:00:00.000+01:00"),
        ("toYear(toDate('2024-03-05'))", 2024),
        ("toYYYYMM(toDateTime('2024-03-05T00:00:00Z'))", 202403),
        ("dateDiff('day', toDate('2024-01-01'), toDate('2024-03-01'))", 60),
        ("toString(dateAdd('month', 1, toDate('2024-01-31')))", "2024-02-29"),
        ("toDateTime('2024-01-01') < toDateTime('2024-01-02')", True),
        ("toString(toStartOfWeek(toDateTime('2024-03-07T12:00:00Z')))", "2024-03-04T00:00:00.000Z"),
    ],
)
def test_dates(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


def test_print_formats_values_as_hog_literals() -> None:
    out = printed(
        "print('plain', 1, 2.0, 0.5, null, true, [1, 'a'], {'k': [null]}, (1, 2), tuple(1), 1e-7, 1/0)\n"
        "print(Error('x'), x -> x, toDate('2024-01-02'), fromUnixTimestamp(0))"
    )
    assert out == [
        "plain 1 2 0.5 null true [1, 'a'] {'k': [null]} (1, 2) tuple(1) 1e-7 Infinity",
        "Error('x') fn<lambda(1)> Date(2024, 1, 2) DateTime(0.0, 'UTC')",
    ]


def test_print_escapes_strings_inside_structures() -> None:
    assert printed("print(['it\\'s', 'a\\nb'])") == ["['it\\'s', 'a\\nb']"]


def test_arity_is_checked() -> None:
    with pytest.raises(HogRuntimeError, match="requires at least 1"):
        ev("lower()")
    with pytest.raises(HogRuntimeError, match="requires at most 1"):
        ev("lower('a', 'b')")


def test_native_type_errors_become_runtime_errors() -> None:
    with pytest.raises(HogRuntimeError, match="null"):
        ev("base64Encode(null)")
    with pytest.raises(HogRuntimeError, match="invalid JSON"):
        ev("jsonParse('{')")


@pytest.mark.parametrize(
    "expr",
    [
        "length(null)",
        "upper(null)",
        "lower(null)",
        "reverse(null)",
        "replaceOne(null, 'a', 'b')",
        "replaceAll(null, 'a', 'b')",
        "trim(null)",
        "trimLeft(null, 'x')",
        "trimRight(null)",
        "splitByString(' ', null)",
        "splitByString(' ', null, 2)",
        "5 between null and 10",
        "5 between 1 and null",
        "null between 1 and 10",
        "5 not between null and 10",
        "null not between 1 and 10",
    ],
)
def test_null_input_gives_null(expr: str) -> None:
    assert ev(expr) is None


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("keys(null)", []),
        ("values(null)", []),
        ("arrayMap(x -> x, null)", []),
        ("arrayCount(x -> x, null)", 0),
        ("arrayReduce((a, x) -> a + x, null, 7)", 7),
        ("null < 3", False),
        ("3 >= null", False),
        ("less(null, 3)", False),
        ("greaterOrEquals(null, null)", False),
        ("arrayStringConcat([1, 2], null)", "1null2"),
        ("arrayStringConcat([1, 2])", "12"),
        ("tryBase64Decode(null)", ""),
    ],
)
def test_null_input_answers(expr: str, expected: Any) -> None:
    assert ev(expr) == expected


def test_between_evaluates_each_operand_once() -> None:
    source = "let n := 0\nfn f() { n := n + 1\nreturn n }\nprint(f() between 0 and 5, f() not between 0 and 1, n)"
    assert printed(source) == ["true true 2"]
