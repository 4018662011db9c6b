"""`assay run`: exit codes, JSON, JUnit, HTML, repetitions, case files, YAML errors."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import xmlschema

from tests.cli_run.conftest import DATA, run_cli

# Subprocesses and long property runs: on a loaded 2-core machine these take minutes, not seconds.
pytestmark = pytest.mark.timeout(360)


def test_local_run_writes_json_and_exits_0(workdir: Path) -> None:
    r = run_cli(workdir, "run", "suite.yaml", "--json", "out/results.json")
    assert r.returncode == 0, r.stderr
    data = json.loads((workdir / "out/results.json").read_text())
    assert data["suite"] == "toy suite" and data["status"] == "completed"
    summary = data["summary"]
    assert (summary["total"], summary["passed"], summary["failed"], summary["error"]) == (3, 2, 1, 0)
    assert summary["pass_rate"] == 0.6667 and summary["mean_score"] == 83.33
    by_name = {x["name"]: x for x in data["results"]}
    assert by_name["hello"]["response"] == "echo: hello" and by_name["hello"]["status"] == "passed"
    weather = by_name["weather"]
    assert weather["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert weather["status"] == "failed" and weather["score"] == 50 and weather["tokens"] == 7
    assert "echo" in weather["reason"]
    assert by_name["#3 say something"]["latency_ms"] >= 0
    assert "toy suite" in r.stdout and "passed" in r.stdout  # the table


def test_fail_under_and_max_errors_gate(workdir: Path) -> None:
    assert run_cli(workdir, "run", "suite.yaml", "-q", "--fail-under", "0.6").returncode == 0
    low = run_cli(workdir, "run", "suite.yaml", "-q", "--fail-under", "0.8")
    assert low.returncode == 1 and "pass_rate 0.6667 is under --fail-under pass_rate=0.8" in low.stderr
    assert run_cli(workdir, "run", "suite.yaml", "-q", "--fail-under", "score=80").returncode == 0
    score = run_cli(workdir, "run", "suite.yaml", "-q", "--fail-under", "score=90", "--fail-under", "0.5")
    assert score.returncode == 1 and "score 83.33" in score.stderr

    suite = (workdir / "suite.yaml").read_text().replace("  - input: say something", "  - input: boom")
    (workdir / "errors.yaml").write_text(suite)
    errors = run_cli(workdir, "run", "errors.yaml", "-q", "--max-errors", "0", "--json", "e.json")
    assert errors.returncode == 1 and "1 errors exceed --max-errors 0" in errors.stderr
    boom = next(x for x in json.loads((workdir / "e.json").read_text())["results"] if x["input"] == "boom")
    assert boom["status"] == "error" and "RuntimeError: the agent exploded" in boom["error"]
    assert run_cli(workdir, "run", "errors.yaml", "-q", "--max-errors", "1").returncode == 0


def test_bad_flags_exit_2(workdir: Path) -> None:
    for args in (
        ["--fail-under", "score=101"],
        ["--fail-under", "lots"],
        ["--fail-under", "1.5"],
        ["--repeat", "0"],
        ["--no-such-flag"],
    ):
        r = run_cli(workdir, "run", "suite.yaml", *args)
        assert r.returncode == 2, (args, r.stderr)
    missing = run_cli(workdir, "run", "nope.yaml")
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    server = run_cli(workdir, "run", "suite.yaml", "--server", "http://127.0.0.1:9", "--api-key", "k")
    assert server.returncode == 2 and "python instance" in server.stderr
    no_key = run_cli(workdir, "run", "suite.yaml", "--server", "http://127.0.0.1:9")
    assert no_key.returncode == 2 and "--api-key" in no_key.stderr


def test_yaml_errors_name_file_and_line(workdir: Path) -> None:
    (workdir / "syntax.yaml").write_text("name: x\ninstance: {kind: python\ncases: []\n")
    r = run_cli(workdir, "run", "syntax.yaml")
    assert r.returncode == 2 and "syntax.yaml:3: invalid YAML" in r.stderr

    bad = """name: bad
instance:
  kind: python
  callable: not a callable
evaluators:
  - type: contains
    value: x
  - type: regex
    pattern: "("
  - type: hog
    source: "return ("
  - type: contains
    value: y
    weight: -1
concurrency: many
cases:
  - input: hi
    expected_tool_calls: [{arguments: {}}]
  - inptu: typo
"""
    (workdir / "bad.yaml").write_text(bad)
    r = run_cli(workdir, "run", "bad.yaml")
    assert r.returncode == 2
    err = r.stderr
    assert "bad.yaml:15: concurrency:" in err
    assert "bad.yaml:18: cases[0].expected_tool_calls" in err and "bad.yaml:19: cases[1].inptu" in err
    fixed = bad.replace("concurrency: many\n", "").replace("    expected_tool_calls: [{arguments: {}}]\n", "")
    (workdir / "bad.yaml").write_text(fixed.replace("  - inptu: typo\n", ""))
    err = run_cli(workdir, "run", "bad.yaml").stderr
    assert "bad.yaml:4: instance.callable: callable must look like" in err
    assert "bad.yaml:9: evaluators[1].pattern: invalid regular expression" in err
    assert "bad.yaml:11: evaluators[2].source: Failed to compile Hog code" in err
    assert "bad.yaml:14: evaluators[3].weight: weight must be a number above 0" in err

    (workdir / "judge.yaml").write_text(
        (workdir / "suite.yaml").read_text().replace("evaluators:\n", "evaluators:\n  - type: llm_judge\n")
    )
    judge = run_cli(workdir, "run", "judge.yaml")
    assert judge.returncode == 2 and "ASSAY_JUDGE_MODEL" in judge.stderr
    skipped = (
        (workdir / "suite.yaml")
        .read_text()
        .replace("evaluators:\n", "evaluators:\n  - type: llm_judge\n    if_env: ASSAY_TEST_UNSET_VARIABLE\n")
    )
    (workdir / "judge.yaml").write_text(skipped)
    assert run_cli(workdir, "run", "judge.yaml", "-q").returncode == 0


def test_repeat_and_junit(workdir: Path) -> None:
    r = run_cli(workdir, "run", "suite.yaml", "-q", "--repeat", "3", "--junit", "junit.xml", "--json", "r.json")
    assert r.returncode == 0, r.stderr
    data = json.loads((workdir / "r.json").read_text())
    assert len(data["results"]) == 9 and data["summary"]["total"] == 9
    assert sorted({(x["case"], x["repetition"]) for x in data["results"]}) == [
        (c, k) for c in range(3) for k in range(3)
    ]

    xmlschema.XMLSchema(str(DATA / "junit.xsd")).validate(str(workdir / "junit.xml"))  # raises when invalid
    root = ET.parse(workdir / "junit.xml").getroot()
    assert root.tag == "testsuites" and root.attrib["tests"] == "9" and root.attrib["failures"] == "3"
    (suite,) = list(root)
    assert suite.tag == "testsuite"
    assert {k: suite.attrib[k] for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "toy suite",
        "tests": "9",
        "failures": "3",
        "errors": "0",
        "skipped": "0",
    }
    float(suite.attrib["time"])
    assert suite[0].tag == "properties"
    cases = suite.findall("testcase")
    assert len(cases) == 9 and [c.tag for c in suite] == ["properties", *["testcase"] * 9]
    allowed = {"skipped", "error", "failure", "system-out", "system-err"}
    for case in cases:
        assert set(case.attrib) == {"name", "classname", "time"} and case.attrib["classname"] == "toy suite"
        assert float(case.attrib["time"]) >= 0
        assert {child.tag for child in case} <= allowed
        assert len([c for c in case if c.tag in {"skipped", "error", "failure"}]) <= 1
    names = [c.attrib["name"] for c in cases]
    assert "weather" in names and "weather [repetition 3]" in names
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == 3 and all(c.attrib["name"].startswith("weather") for c in failures)
    failure = failures[0].find("failure")
    assert failure is not None and failure.attrib["message"].startswith("score 50 < 70")
    assert failure.attrib["type"] and "echo" in (failure.text or "")


def test_junit_errors_and_skips(workdir: Path) -> None:
    text = (workdir / "suite.yaml").read_text().replace("  - input: say something", "  - input: boom")
    text = text.replace("  - type: contains\n    value: echo\n    weight: 2\n", "")
    (workdir / "e.yaml").write_text(text.replace('  - type: hog\n    source: "return length(output) < 200"\n', ""))
    r = run_cli(workdir, "run", "e.yaml", "-q", "--junit", "j.xml")
    assert r.returncode == 0, r.stderr
    xmlschema.XMLSchema(str(DATA / "junit.xsd")).validate(str(workdir / "j.xml"))
    suite = ET.parse(workdir / "j.xml").getroot().find("testsuite")
    assert suite is not None and suite.attrib["errors"] == "1"
    error = suite.find("testcase/error")
    assert error is not None and "exploded" in error.attrib["message"]


def test_cases_from_csv_and_jsonl(workdir: Path) -> None:
    base = (workdir / "suite.yaml").read_text().split("cases:")[0]
    (workdir / "csv.yaml").write_text(base + "cases_from: cases.csv\n")
    r = run_cli(workdir, "run", "csv.yaml", "-q", "--json", "c.json")
    assert r.returncode == 0, r.stderr
    results = json.loads((workdir / "c.json").read_text())["results"]
    assert [x["name"] for x in results] == ["first", "second"]
    assert results[0]["expected_behavior"] == "greets" and results[0]["tags"] == ["a"]
    assert results[1]["tags"] == ["x", "y"] and results[1]["status"] == "failed"
    assert results[1]["expected_tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]

    (workdir / "jsonl.yaml").write_text(base + "cases:\n  - input: inline first\ncases_from: cases.jsonl\n")
    r = run_cli(workdir, "run", "jsonl.yaml", "-q", "--json", "j.json")
    assert r.returncode == 0, r.stderr
    results = json.loads((workdir / "j.json").read_text())["results"]
    assert [x["input"] for x in results] == ["inline first", "hello jsonl", "weather jsonl"]

    (workdir / "cases.jsonl").write_text('{"input": "ok"}\n{"input": 3}\n{not json}\n')
    r = run_cli(workdir, "run", "jsonl.yaml")
    assert r.returncode == 2
    assert "cases.jsonl:3: invalid JSON" in r.stderr
    (workdir / "cases.jsonl").write_text('{"input": "ok"}\n{"input": 3}\n')
    r = run_cli(workdir, "run", "jsonl.yaml")
    assert r.returncode == 2 and "cases.jsonl:2: input:" in r.stderr


class _Report(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.svgs: list[dict[str, str]] = []
        self.bars = 0
        self.tags: set[str] = set()
        self.links: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        self.links += [v for k, v in a.items() if k in {"src", "href"}]
        if tag == "svg":
            self.svgs.append(a)
        if tag == "rect" and a.get("class") == "bar":
            self.bars += 1
        if tag == "tr" and "case-row" in a.get("class", ""):
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_report_is_self_contained(workdir: Path) -> None:
    (workdir / "x.yaml").write_text(
        (workdir / "suite.yaml").read_text().replace("input: hello", "input: <b>hi</b> & 'x'")
    )
    r = run_cli(workdir, "run", "x.yaml", "-q", "--html", "report.html")
    assert r.returncode == 0, r.stderr
    page = (workdir / "report.html").read_text()
    parser = _Report()
    parser.feed(page)
    assert len(parser.rows) == 3 and all(len(row) == 10 for row in parser.rows)
    first = parser.rows[0]
    assert first[0] == "hello" and first[2] == "<b>hi</b> & 'x'" and first[4] == "echo: <b>hi</b> & 'x'"
    assert first[7] == "passed" and first[6] == "100"
    weather = parser.rows[1]
    assert weather[5] == 'get_weather({"city": "Paris"})' and weather[7] == "failed" and weather[6] == "50"
    assert [s.get("class") for s in parser.svgs] == ["chart score-chart", "chart latency-chart"]
    assert parser.bars >= 10 + 2
    assert "script" not in parser.tags and "link" not in parser.tags and parser.links == []
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_rerun_reuses_the_suite_and_local_runs_compare(workdir: Path) -> None:
    first = run_cli(workdir, "run", "suite.yaml", "--json", "first.json")
    assert first.returncode == 0, first.stderr
    (workdir / "suite.yaml").write_text(
        (workdir / "suite.yaml").read_text().replace("value: echo", "value: Sunny")  # now only "weather" has it
    )
    second = run_cli(workdir, "run", "suite.yaml", "--json", "second.json")
    assert second.returncode == 0, second.stderr  # failed cases alone do not fail the command without a gate
    base = json.loads((workdir / "first.json").read_text())["run_id"]
    head = json.loads((workdir / "second.json").read_text())["run_id"]
    r = run_cli(workdir, "compare", base, head, "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["n_paired"] == 3  # the same three cases, kept across runs of the file
    assert body["score"]["mean_difference"] < 0 and len(body["regressed"]) == 2
    r = run_cli(workdir, "compare", base, head, "--fail-on-regression")
    assert r.returncode == 0  # 3 pairs cannot reach significance; the flag must not fail on noise
    r = run_cli(workdir, "compare", base, "00000000-0000-0000-0000-000000000000")
    assert r.returncode == 2 and "no run" in r.stderr


def test_cases_from_a_local_dataset(workdir: Path) -> None:
    import asyncio

    from assay.storage import datasets as dataset_store
    from assay.storage import environments as env_store
    from assay.storage.db import make_engine, make_sessionmaker
    from assay.storage.migrate import upgrade

    async def seed() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'assay.db'}")
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            env = await env_store.create_environment(session=session, name="local")
            ds = await dataset_store.create_dataset(
                session=session, environment_id=env.id, created_by_id=None, fields={"name": "golden"}
            )
            items = [
                {
                    "input": [
                        {"role": "system", "content": "be kind"},
                        {"role": "user", "content": "weather in Paris?"},
                    ],
                    "metadata": {
                        "name": "from messages",
                        "expected_tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}],
                    },
                },
                {"input": "plain hello", "output": "greets back", "metadata": {"tags": ["smoke"]}},
                {"input": None},  # nothing to ask: skipped
            ]
            rows = [
                await dataset_store.create_dataset_item(
                    session=session,
                    environment_id=env.id,
                    created_by_id=None,
                    fields={
                        "dataset_id": ds.id,
                        "input": item.get("input"),
                        "output": item.get("output"),
                        "metadata_": item.get("metadata"),
                        "deleted": False,
                    },
                )
                for item in items
            ]
            # revisions 1-3 add the items; revision 4 changes the expected answer of the second
            await dataset_store.update_dataset_item(session=session, row=rows[1], fields={"output": "waves back"})
            await session.commit()
        await engine.dispose()

    async def recorded_revision(run_id: str) -> int:
        from assay.storage import runs as run_store

        engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'assay.db'}")
        async with make_sessionmaker(engine)() as session:
            _, snapshot = await run_store.get_run_with_snapshot(session=session, run_id=uuid.UUID(run_id))
        await engine.dispose()
        assert snapshot.dataset is not None
        return int(snapshot.dataset["revision"])

    asyncio.run(seed())
    text = (workdir / "suite.yaml").read_text()
    (workdir / "dataset.yaml").write_text(text[: text.index("cases:")] + "dataset: golden\n")
    r = run_cli(workdir, "run", "dataset.yaml", "--json", "ds.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((workdir / "ds.json").read_text())
    results = {x["name"]: x for x in report["results"]}
    assert len(results) == 2  # the item without an input is skipped
    from_messages = results["from messages"]
    assert from_messages["input"] == "weather in Paris?"  # the last user message
    assert from_messages["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    [plain] = [x for name, x in results.items() if name != "from messages"]
    assert plain["input"] == "plain hello" and plain["expected_behavior"] == "waves back"
    assert report["dataset"]["revision"] == 4 and asyncio.run(recorded_revision(report["run_id"])) == 4
    # pinned to revision 3 (`dataset_revision: 3` in the file does the same): the answer as it was then
    r = run_cli(workdir, "run", "dataset.yaml", "--dataset-revision", "3", "--json", "pinned.json")
    assert r.returncode == 0, r.stderr
    report = json.loads((workdir / "pinned.json").read_text())
    assert {x["expected_behavior"] for x in report["results"]} >= {"greets back"}
    assert report["dataset"]["revision"] == 3 and asyncio.run(recorded_revision(report["run_id"])) == 3
    (workdir / "missing.yaml").write_text(text[: text.index("cases:")] + "dataset: nope\n")
    r = run_cli(workdir, "run", "missing.yaml")
    assert r.returncode == 2 and "no dataset 'nope'" in r.stderr


def test_consistency_across_repetitions_in_summary_json_and_html(workdir: Path) -> None:
    text = (workdir / "suite.yaml").read_text().replace("toy_agent:echo", "toy_agent:flaky")
    text = text.replace("concurrency: 2", "concurrency: 1")
    (workdir / "flaky.yaml").write_text(text[: text.index("cases:")] + "cases:\n  - name: hello\n    input: hello\n")
    r = run_cli(workdir, "run", "flaky.yaml", "--repeat", "3", "--json", "f.json", "--html", "f.html")
    assert r.returncode == 0, r.stderr
    consistency = {c["evaluator"]: c for c in json.loads((workdir / "f.json").read_text())["consistency"]}
    assert consistency["case score"]["cases"] == 1 and consistency["case score"]["flip_rate"] == 1.0
    assert consistency["contains"]["mean_score_sd"] == pytest.approx(57.74, abs=0.01)  # 100, 0, 100
    assert consistency["hog"]["flip_rate"] == 0.0  # every answer is short: that check is stable
    assert "Consistency across repetitions" in r.stdout
    html = (workdir / "f.html").read_text()
    assert 'id="consistency"' in html and "100.0%" in html
    r = run_cli(workdir, "run", "suite.yaml", "--json", "once.json")
    assert json.loads((workdir / "once.json").read_text())["consistency"] == []


def test_junit_schema_rejects_malformed_reports(tmp_path: Path) -> None:
    schema = xmlschema.XMLSchema(str(DATA / "junit.xsd"))
    bad = tmp_path / "bad.xml"
    bad.write_text(
        '<testsuites><testsuite name="s" tests="1" failures="0" errors="0">'
        '<testcase name="c"><failure/><error/></testcase></testsuite></testsuites>'
    )
    assert not schema.is_valid(str(bad))  # no classname/time, and two outcomes
