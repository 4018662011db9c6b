"""Tolerant JSON extraction, format-refusal detection and the per-endpoint format memory."""

from __future__ import annotations

import pytest

from assay.providers.structured import FormatMemory, extract_json, is_format_rejection, names_response_format

SCHEMA = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "verdict": {"type": "boolean"}},
    "required": ["reasoning", "verdict"],
    "additionalProperties": False,
}
WANT = {"reasoning": "Rude.", "verdict": False}


@pytest.mark.parametrize(
    "text",
    [
        '{"reasoning": "Rude.", "verdict": false}',
        '```json\n{"reasoning": "Rude.", "verdict": false}\n```',
        '```\n{"reasoning": "Rude.", "verdict": false}```',
        'Sure! Here is my evaluation:\n\n{"reasoning": "Rude.", "verdict": false}',
        '{"reasoning": "Rude.", "verdict": false}\n\nLet me explain further. The answer {is} rude because',
        'Here: ```json\n{"reasoning": "Rude.", "verdict": false}\n``` Hope this helps!',
        '<think>The user wants {json}. Hmm.</think>\n{"reasoning": "Rude.", "verdict": false}',
        "{'reasoning': 'Rude.', 'verdict': false}",
        "{'reasoning': 'Rude.', 'verdict': False}",
        'Example: {"verdict": true}. My answer: {"reasoning": "Rude.", "verdict": false}',
    ],
)
def test_extracts_the_intended_object(text: str) -> None:
    assert extract_json(text, SCHEMA) == WANT


def test_keeps_double_quoted_apostrophes_and_braces() -> None:
    text = 'The verdict: {"reasoning": "It\'s rude {really}.", "verdict": false} -- that\'s it'
    assert extract_json(text, SCHEMA) == {"reasoning": "It's rude {really}.", "verdict": False}


@pytest.mark.parametrize(
    "text", ["", "The answer is polite. Verdict: true", "{not json", "[1, 2]", '{"reasoning": "cut off at max']
)
def test_nothing_to_extract(text: str) -> None:
    assert extract_json(text, SCHEMA) is None


def test_without_a_match_returns_the_first_object() -> None:
    assert extract_json('{"a": 1} and {"b": 2}', SCHEMA) == {"a": 1}
    assert extract_json('x {"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("status", "detail", "expected"),
    [
        (500, "1 validation error\nresponse_format.type\n  Input should be 'text' or 'json_object'", True),
        (400, 'response_format type must be one of "text" or "json_object", but got: json_schema', True),
        (400, "The provided JSON schema contains features not supported by xgrammar.", True),
        (422, "body.response_format: Input tag 'json_schema' found using 'type' does not match", True),
        (400, "'response_format.type' must be 'json_schema' or 'text'", True),
        (500, "The server had an error.", False),
        (429, "response_format rate limited", False),
        (400, None, False),
    ],
)
def test_format_rejections(status: int, detail: str | None, expected: bool) -> None:
    assert is_format_rejection(status, detail) is expected


def test_names_response_format() -> None:
    assert names_response_format("Structured outputs are not supported")
    assert not names_response_format("model not found")


def test_memory_rejections_are_final_and_ignoring_needs_two_in_a_row() -> None:
    memory = FormatMemory()
    a, b = ("openai", "http://a", "m"), ("openai", "http://a", "other")
    assert memory.chain(a) == ["json_schema", "json_object", "instructed"]
    memory.rejected(a, "json_schema")
    assert memory.chain(a) == ["json_object", "instructed"] and memory.chain(b)[0] == "json_schema"
    memory.worked(b, "json_object", ["json_schema"])
    assert memory.chain(b)[0] == "json_schema"  # once is not enough
    memory.worked(b, "json_schema", [])  # and a success clears it
    memory.worked(b, "json_object", ["json_schema"])
    assert memory.chain(b)[0] == "json_schema"
    memory.worked(b, "json_object", ["json_schema"])
    assert memory.chain(b) == ["json_object", "instructed"]
    memory.rejected(a, "json_object")
    memory.rejected(a, "instructed")
    assert memory.chain(a) == ["instructed"]  # the last way always remains


def test_memory_is_bounded() -> None:
    memory = FormatMemory(max_endpoints=3)
    for i in range(10):
        memory.rejected(("openai", "u", str(i)), "json_schema")
    assert memory.chain(("openai", "u", "0"))[0] == "json_schema"
    assert memory.chain(("openai", "u", "9"))[0] == "json_object"
