"""`assay run` with conversation cases against the fake LLM server: scripted turns with mocked tools, a simulated
user played by a local callable, the transcript in the JSON, JUnit and HTML reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli_run.conftest import run_cli

pytestmark = pytest.mark.timeout(360)

SHOPPER = """
def reply(goal, persona, messages):
    last = next((m["content"] for m in reversed(messages) if m["role"] == "assistant"), "")
    if "shipped" in (last or ""):
        return {"goal_met": True, "message": ""}
    return "Please track order A1"
"""

SUITE = """
name: conversations
instance:
  kind: openai_chat
  base_url: {base_url}
  model: agent-model
  api_key: sk-test
  tools:
    - type: function
      function: {{name: lookup_order, parameters: {{type: object, properties: {{order_id: {{type: string}}}}}}}}
evaluators:
  - {{type: trajectory, order: exact}}
  - {{type: per_turn, turns: last, check: {{type: contains, value: shipped}}}}
cases:
  - name: scripted
    input: hello
    user_turns: [track order A1]
    tool_mocks: [{{tool: lookup_order, arguments: {{order_id: A1}}, result: "A1: shipped"}}]
    expected_tool_calls: [{{name: lookup_order, arguments: {{order_id: A1}}}}]
  - name: simulated
    input: hi
    simulated_user: {{goal: learn the status of order A1, callable: "shopper:reply", max_turns: 3}}
    tool_mocks: [{{tool: lookup_order, result: "A1: shipped"}}]
    expected_tool_calls: [{{name: lookup_order}}]
"""


def test_assay_run_conversations(tmp_path: Path, fake) -> None:  # noqa: ANN001
    fake.set_scenario(
        {
            "rules": [
                {
                    "contains": "track order A1",
                    "tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "A1"}}],
                }
            ]
        }
    )
    (tmp_path / "shopper.py").write_text(SHOPPER)
    (tmp_path / "suite.yaml").write_text(SUITE.format(base_url=fake.base_url))
    r = run_cli(tmp_path, "run", "suite.yaml", "--json", "out.json", "--junit", "out.xml", "--html", "out.html")
    assert r.returncode == 0, r.stdout + r.stderr
    results = {x["name"]: x for x in json.loads((tmp_path / "out.json").read_text())["results"]}
    scripted = results["scripted"]
    assert scripted["status"] == "passed" and scripted["response"] == "Done. A1: shipped"
    turns = scripted["transcript"]["turns"]
    assert [t["assistant"] for t in turns] == ["hello", "Done. A1: shipped"] and turns[1]["steps"] == 2
    assert turns[1]["tool_calls"][0]["result"] == "A1: shipped"
    simulated = results["simulated"]
    assert simulated["status"] == "passed" and simulated["transcript"]["stop_reason"] == "goal_met"
    assert [t["user"] for t in simulated["transcript"]["turns"]] == ["hi", "Please track order A1"]
    assert simulated["transcript"]["simulator"]["callable"] == "shopper:reply"
    junit = ET.parse(tmp_path / "out.xml").getroot()
    out = junit.find(".//testcase[@name='scripted']/system-out")
    assert out is not None and "transcript:" in (out.text or "") and "tool: lookup_order" in (out.text or "")
    html = (tmp_path / "out.html").read_text()
    assert "2 turn(s)" in html and "assistant: Done. A1: shipped" in html and "stopped: goal_met" in html
