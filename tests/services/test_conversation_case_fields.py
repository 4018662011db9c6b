"""Conversation fields of a case in the service layer: the stored form, JSONL imports, problems named by line."""

from __future__ import annotations

import json

import pytest

from assay.services.test_cases import CaseImportRejected, read_case_file, validate_fields


def test_stored_form_keeps_only_what_was_given() -> None:
    fields = validate_fields(
        {"input_message": "hi", "user_turns": ["and then?"], "tool_mocks": [{"tool": "t", "result": {"ok": True}}]}
    )
    row = fields.row_fields()
    assert row["conversation"] == {"user_turns": ["and then?"], "tool_mocks": [{"tool": "t", "result": {"ok": True}}]}
    assert "user_turns" not in row and validate_fields({"input_message": "hi"}).row_fields()["conversation"] is None


def test_jsonl_import_reads_conversation_fields_and_names_bad_lines() -> None:
    good = {"input": "hi", "simulated_user": {"goal": "get a refund", "max_turns": 3}}
    bad = {"input": "hi", "user_turns": ["x"], "simulated_user": {"goal": "g"}}
    (case,) = read_case_file("cases.jsonl", json.dumps(good).encode())
    assert case.row_fields()["conversation"]["simulated_user"]["max_turns"] == 3
    content = "\n".join(json.dumps(x) for x in (good, bad)).encode()
    with pytest.raises(CaseImportRejected) as rejected:
        read_case_file("cases.jsonl", content)
    assert rejected.value.problems[0].startswith("line 2:") and "not both" in rejected.value.problems[0]
