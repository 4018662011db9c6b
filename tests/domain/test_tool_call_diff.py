"""Expected and made tool calls paired for reading."""

from __future__ import annotations

from assay.domain.tool_call_diff import pair_tool_calls


def test_pairs_by_name_in_order_and_marks_what_differs():
    expected = [
        {"name": "lookup", "arguments": {"id": "1", "full": True}},
        {"name": "refund", "arguments": {"amount": 5}},
        {"name": "notify", "arguments": {}},
    ]
    made = [
        {"name": "refund", "arguments": {"amount": 7}},
        {"name": "lookup", "arguments": {"id": "1", "full": True}},
        {"name": "escalate", "arguments": {"to": "human"}},
    ]
    pairs = pair_tool_calls(expected, made)
    assert [(p.state, p.differing) for p in pairs] == [
        ("same", ()),
        ("arguments differ", ("amount",)),
        ("missing", ()),
        ("unexpected", ()),
    ]
    assert pairs[1].made == {"name": "refund", "arguments": {"amount": 7}}
    assert pairs[3].made["name"] == "escalate" and pairs[3].expected is None


def test_nothing_expected_or_odd_shapes():
    assert pair_tool_calls(None, []) == []
    pairs = pair_tool_calls(["lookup"], [{"name": "lookup", "arguments": "not a dict"}])
    assert [p.state for p in pairs] == ["same"]
