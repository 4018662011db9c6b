"""Message text extraction and event input/output selection (§4.5)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assay.domain.messages import (
    extract_event_io,
    extract_text_from_messages,
    hog_io_strings,
    text_preview,
)


@pytest.mark.parametrize("falsy", [None, "", [], {}, 0, False])
def test_falsy_is_empty(falsy: object) -> None:
    assert extract_text_from_messages(falsy) == ""


def test_string_kept_as_is() -> None:
    assert extract_text_from_messages("  hi\n") == "  hi\n"


def test_message_list() -> None:
    msgs = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is"}, {"type": "text", "text": "2+2?"}]},
        "a bare string",
        {"role": "assistant", "content": "4"},
    ]
    assert extract_text_from_messages(msgs) == "system: Be brief.\nuser: What is 2+2?\na bare string\nassistant: 4"


def test_block_fallbacks() -> None:
    msgs = [{"role": "user", "content": [{"content": "from content"}, {"type": "image", "url": "x"}, "plain"]}]
    assert extract_text_from_messages(msgs) == "user: from content {'type': 'image', 'url': 'x'} plain"


def test_openai_tool_calls_and_tool_role() -> None:
    msgs = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "assistant", "content": "It is 18C.", "tool_calls": []},
    ]
    assert extract_text_from_messages(msgs) == (
        'assistant: [tool_call call_1: get_weather({"city": "Paris"})]\ntool[call_1]: 18C\nassistant: It is 18C.'
    )


def test_anthropic_blocks() -> None:
    msgs = [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "found"}]}
            ],
        },
    ]
    assert extract_text_from_messages(msgs) == (
        'assistant: Let me check. [tool_call toolu_1: lookup({"q": "x"})]\nuser: [tool_result toolu_1: found]'
    )


def test_single_dict_and_other_values() -> None:
    assert extract_text_from_messages({"role": "assistant", "content": "yo"}) == "yo"
    assert extract_text_from_messages({"text": "t"}) == "t"
    assert extract_text_from_messages(42) == "42"
    assert (
        extract_text_from_messages([{"index": 0, "message": {"role": "assistant", "content": "ok"}}]) == "assistant: ok"
    )
    assert extract_text_from_messages([{"content": "no role"}]) == "unknown: no role"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_never_raises(value: object) -> None:
    assert isinstance(extract_text_from_messages(value), str)


def test_generation_io_precedence() -> None:
    props = {
        "$ai_input": [{"role": "user", "content": "q"}],
        "$ai_input_state": "s",
        "$ai_output": "o",
        "$ai_output_state": "os",
    }
    assert extract_event_io("$ai_generation", props) == ([{"role": "user", "content": "q"}], "o")
    props2 = {
        "$ai_input": [],
        "$ai_input_state": "s",
        "$ai_output_choices": [],
        "$ai_output": "",
        "$ai_output_state": "os",
    }
    assert extract_event_io("$ai_generation", props2) == ("s", "os")
    assert extract_event_io("$ai_generation", {"$ai_output_choices": ["c"], "$ai_output": "o"}) == ("", ["c"])
    assert extract_event_io("$ai_generation", {}) == ("", "")


def test_other_events_use_state() -> None:
    props = {"$ai_input": "ignored", "$ai_input_state": {"a": 1}, "$ai_output_state": None}
    assert extract_event_io("$ai_span", props) == ({"a": 1}, "")
    assert extract_event_io("$ai_trace", None) == ("", "")


def test_hog_io_strings() -> None:
    value = [{"role": "user", "content": "héllo"}]
    assert hog_io_strings(value, {"a": [1, 2]}) == (json.dumps(value), '{"a": [1, 2]}')
    assert hog_io_strings(value, None)[0] == '[{"role": "user", "content": "h\\u00e9llo"}]'
    assert hog_io_strings("", None) == ("", "")
    assert hog_io_strings("text", 5) == ("text", "5")


def test_preview_truncates() -> None:
    assert text_preview("x" * 500) == "x" * 200
    assert text_preview([{"role": "user", "content": "hi"}], limit=4) == "user"
