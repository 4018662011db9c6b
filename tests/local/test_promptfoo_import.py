"""`assay import promptfoo`: realistic configs become suite files that load and run against the fake LLM server."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from typer.testing import CliRunner

from assay.cli.main import app
from assay.local.promptfoo_import import import_promptfoo
from assay.local.runner import run_local
from assay.local.suitefile import load_suite
from assay.settings import Settings

FIXTURES = Path(__file__).parent / "promptfoo"

JUDGE_RULE = {"contains": "The reply:", "target": "any", "json": {"verdict": True, "reasoning": "Fine."}}


def project(tmp_path: Path, name: str, base_url: str = "http://127.0.0.1:9/v1") -> Path:
    """A copy of a fixture project whose configs point at `base_url`; returns its promptfooconfig.yaml."""
    shutil.copytree(FIXTURES / name, tmp_path / name)
    config = tmp_path / name / "promptfooconfig.yaml"
    config.write_text(config.read_text().replace("FAKE_BASE_URL", base_url))
    return config


@dataclass(frozen=True, slots=True)
class Cli:
    code: int
    stdout: str
    stderr: str


def import_cli(cwd: Path, *args: str) -> Cli:
    """`assay import promptfoo ARGS`, in this process."""
    result = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"}).invoke(app, ["import", "promptfoo", *args])
    return Cli(result.exit_code, result.stdout, result.stderr)


async def run_suite(path: Path, fake, tmp_path: Path) -> dict[str, str]:  # noqa: ANN001
    """What `assay run` does (in this process, on a fresh SQLite file): each case's name and status."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'assay.db'}",
        judge_model="openai/judge-model",
        judge_base_url=fake.base_url,
        judge_api_key="sk-judge",
        _env_file=None,
    )
    outcome = await run_local(load_suite(path), settings)
    return {r["name"]: r["status"] for r in outcome.results}


async def test_support_bot_config_imports_runs_and_reports_what_is_left_out(tmp_path: Path, fake) -> None:  # noqa: ANN001
    config = project(tmp_path, "support", fake.base_url)
    r = import_cli(tmp_path, str(config), "-o", str(tmp_path / "suite.yaml"))
    assert r.code == 0, r.stderr
    first, second = tmp_path / "suite-1.yaml", tmp_path / "suite-2.yaml"  # one provider × two prompts
    assert f"Wrote {first}: mini × " in r.stdout and f"Wrote {second}: mini × chat.json" in r.stdout
    report = r.stdout[r.stdout.index("Not mapped") :]
    assert (
        "cost" in report and "javascript" in report and "contains-json" in report and "config.response_format" in report
    )

    plain, chat = load_suite(first), load_suite(second)
    assert plain.instance["kind"] == "openai_chat" and plain.instance["model"] == "gpt-4o-mini"
    assert plain.instance["parameters"] == {"temperature": 0, "max_tokens": 200}
    assert chat.instance["system_prompt"] == "You are the support agent of Acme."
    assert [c["input"] for c in chat.cases][0] == "How do I get a refund?"
    assert [c["name"] for c in plain.cases] == ["refund", "shipping (1)", "shipping (2)", "greeting", "json"]
    assert plain.cases[1]["input"] == "Customer question: Where is my parcel?"
    assert plain.cases[1]["tags"] == ["promptfoo-test-2", "promptfoo-test-2-1"]
    shipping = [i for i in plain.items if i.get("cases_tagged") == ["promptfoo-test-2"]]
    assert [i["evaluator"]["type"] for i in shipping] == ["contains", "contains"]  # once for both expansions
    assert all(i["required"] for i in plain.items)

    fake.set_scenario({"rules": [JUDGE_RULE]})  # the agent echoes its input; the judge approves
    assert await run_suite(first, fake, tmp_path) == {
        "refund": "passed",
        "shipping (1)": "failed",  # contains-all [my, ship]
        "shipping (2)": "passed",
        "greeting": "passed",  # equals, not-contains, latency, llm-rubric and similar (judged)
        "json": "failed",  # is-json on "Customer question: {...}"
    }
    judged = [str(q) for q in fake.requests() if "The reply:" in str(q)]
    assert any("Greets the customer of Acme politely" in q for q in judged)  # vars rendered into the rubric


async def test_csv_tests_and_an_http_provider(tmp_path: Path, fake) -> None:  # noqa: ANN001
    config = project(tmp_path, "faq", fake.base_url)
    result = import_promptfoo(config)
    assert [(u.where, u.what) for u in result.unmapped] == [("faq_tests.csv:3.assert[2]", "javascript")]
    [(label, suite)] = result.suites
    assert suite["instance"]["kind"] == "http"
    assert suite["instance"]["body_template"]["messages"][0]["content"] == "{{input_message}}"
    assert suite["instance"]["response"] == {"text": "$.choices[0].message.content"}
    (tmp_path / "faq.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    fake.set_scenario({"rules": [JUDGE_RULE]})
    assert await run_suite(tmp_path / "faq.yaml", fake, tmp_path) == {
        "hours": "passed",  # icontains and the grade: rubric
        "shipping": "passed",  # contains; fn: is not mapped
        "exact": "passed",  # a bare __expected value is equals
        "price": "failed",  # not-contains: free
    }


def test_the_report_lists_exactly_what_is_not_mapped(tmp_path: Path) -> None:
    result = import_promptfoo(project(tmp_path, "unsupported"))
    assert [(u.where, u.what) for u in result.unmapped] == [
        ("config", "scenarios"),
        ("prompts[1]", "Translate to {{ language | upper }}: {{t"),
        ("prompts[2]", "file://prompts/make_prompt.js"),
        ("providers[1]", "anthropic:messages:claude-3-5-sonnet-latest"),
        ("providers[2]", "openai:responses:gpt-4.1"),
        ("tests[1]", "options"),
        ("tests[1].assert[2]", "assert-set"),
        ("tests[1].assert[3]", "webhook"),
        ("tests[1].assert[4]", "levenshtein"),
        ("tests[1].assert[5]", "icontains"),
        ("tests[1].assert[6]", "equals"),
    ]
    why = {u.where: u.why for u in result.unmapped}
    assert "user code" in why["prompts[2]"] and "weight 0" in why["tests[1].assert[5]"]
    [(_, suite)] = result.suites
    assert suite["instance"]["base_url"] == "https://api.openai.com/v1"
    assert suite["cases"] == [{"name": "test 1", "input": "Translate to French: Hello", "tags": ["promptfoo-test-1"]}]
    assert [i["type"] for i in suite["evaluators"]] == ["contains"]


def test_a_config_with_nothing_to_score_is_refused(tmp_path: Path) -> None:
    (tmp_path / "promptfooconfig.yaml").write_text(
        "prompts: ['{{q}}']\nproviders: [openai:gpt-4o-mini]\n"
        "tests:\n  - vars: {q: hi}\n    assert:\n      - type: python\n        value: output == 'hi'\n"
    )
    r = import_cli(tmp_path, str(tmp_path / "promptfooconfig.yaml"), "-o", str(tmp_path / "suite.yaml"))
    assert r.code == 2
    assert "no assertion maps" in r.stderr and "tests[1].assert[1]: python" in r.stderr
    assert not (tmp_path / "suite.yaml").exists()
