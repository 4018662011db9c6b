"""`assay.evals` in-process: inside a running event loop (as in a notebook), Python evaluators of every shape,
a judge on the fake LLM server with the judge cache of a stored database, a run on a server, and bad input."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

from assay.api.app import create_app
from assay.evals import AgentOutput, Case, Dataset, ToolCall, check, evaluate, evaluate_sync, judge, python
from assay.settings import Settings
from tests.analysis.test_analysis_cli import server_url  # noqa: F401  (fixture)
from tests.conftest import _sqlite_url, make_env
from tests.engine.conftest import engine_settings  # noqa: F401  (fixture)

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import eval_checks  # noqa: E402


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the server side of `server=` is `assay run --server`'s, tested on both databases."""
    return _sqlite_url(tmp_path)


def _verdicts(report, name: str) -> dict[str, dict]:  # noqa: ANN001
    case = next(c for c in report.cases if c.name == name)
    return {v["evaluator"]: v for v in case.evaluators}


async def test_evaluate_sync_inside_a_running_loop_with_every_return_shape() -> None:
    asyncio.get_running_loop()  # the notebook case: a loop already runs in this thread
    report = evaluate_sync(
        Dataset.of([Case("hello", name="hello"), Case("weather?", name="weather"), Case("boom", name="boom")]),
        agent=eval_checks.agent,
        evaluators=[
            eval_checks.is_echo,  # a bare callable: a python evaluator
            python(eval_checks.length_percent, scale="percent"),
            python("eval_checks:with_reason"),
            python(eval_checks.as_dict),
            python(eval_checks.as_verdict, name="verdict"),
            python(eval_checks.async_check),
            python(eval_checks.too_slow, timeout_s=0.05),
            python(eval_checks.raises),
            python(eval_checks.returns_list),
        ],
        name="shapes",
    )
    assert report.status == "completed" and report.stored_in is None
    hello = _verdicts(report, "hello")
    assert (hello["is_echo"]["status"], hello["is_echo"]["score"]) == ("passed", 1.0)
    assert hello["length_percent"]["score"] == pytest.approx(1.0)
    assert (hello["with_reason"]["score"], hello["with_reason"]["reason"]) == (0.9, "answered 'hello'")
    assert (hello["as_dict"]["status"], hello["as_dict"]["reason"]) == ("not_applicable", "no tool calls")
    assert (hello["verdict"]["status"], hello["verdict"]["reason"]) == ("passed", "a verdict object")
    assert hello["async_check"]["status"] == "passed"
    assert "did not return within 0.05s" in hello["too_slow"]["error"]
    assert hello["raises"]["error"] == "ValueError: cannot judge 'hello'"
    assert "got list" in hello["returns_list"]["error"]
    weather = _verdicts(report, "weather")
    assert weather["is_echo"]["status"] == "failed"
    assert weather["as_dict"]["details"] == {"n": 1} and weather["as_dict"]["score"] == 1.0
    cases = {c.name: c for c in report.cases}
    assert cases["weather"].tool_calls == [{"name": "get_weather", "arguments": {"city": "Paris"}}]
    assert cases["weather"].tokens == 9 and cases["hello"].response == "echo: hello"
    assert cases["hello"].status == "error" and cases["hello"].score is None  # errored evaluators: no score
    assert "too_slow" in (cases["hello"].error or "") and "raises" in (cases["hello"].error or "")
    assert cases["boom"].status == "error" and "RuntimeError: the agent exploded" in (cases["boom"].error or "")
    assert report.summary.errors == 3 and report.summary.total == 3
    assert report.gate_problems(max_errors=0) == ["3 errors exceed --max-errors 0"]


async def test_async_agent_judge_and_cache_in_a_stored_database(fake, database_url: str) -> None:  # noqa: ANN001
    fake.set_scenario(
        {
            "rules": [
                {
                    "model": "judge",
                    "target": "any",
                    "contains": "[good]",
                    "json": {"verdict": True, "reasoning": "Kind."},
                },
                {
                    "model": "judge",
                    "target": "any",
                    "contains": "[bad]",
                    "json": {"verdict": False, "reasoning": "Rude."},
                },
            ]
        }
    )

    async def agent(text: str, case: dict) -> AgentOutput:
        await asyncio.sleep(0)
        return AgentOutput(f"[{'good' if 'thanks' in text else 'bad'}] {case['tags']}", [ToolCall("greet", {})])

    url = database_url  # migrated already, as a local database is after its first run
    cases = [Case("thanks!", tags=["polite"]), Case("go away"), Case("thanks again")]
    settings = Settings(database_url="sqlite+aiosqlite:///unused.db", _env_file=None)  # type: ignore[call-arg]
    kwargs = {
        "agent": agent,
        "evaluators": [
            judge("Is this polite? {{output}}", model="openai/judge", base_url=fake.base_url, name="polite")
        ],
        "name": "judged",
        "store": url,
        "settings": settings,
        "concurrency": 2,
    }
    first = await evaluate(cases, **kwargs)
    assert first.stored_in == url
    assert [c.status for c in first.cases] == ["passed", "failed", "passed"]
    assert first.cases[0].response == "[good] ['polite']" and first.cases[0].tool_calls[0]["name"] == "greet"
    assert first.cases[1].reason and "Rude." in first.cases[1].reason
    assert first.summary.pass_rate == pytest.approx(0.6667) and first.summary.judge_tokens
    judged = len(fake.requests())
    assert judged == 3
    second = await evaluate(cases, **kwargs)
    assert second.run_id != first.run_id and [c.score for c in second.cases] == [c.score for c in first.cases]
    assert len(fake.requests()) == judged  # the judge cache answered every judgement


def test_suite_file_dataset_and_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    dataset = Dataset.from_suite(DATA / "toy_suite.yaml")
    assert dataset.name == "toy evals" and [c.name for c in dataset.cases] == ["hello", "weather", "short"]
    report = evaluate_sync(dataset, progress=True)
    err = capsys.readouterr().err
    assert "toy evals" in err and "3/3" in err  # the progress bar
    assert [c.status for c in report.cases] == ["passed", "failed", "passed"] and report.pass_threshold == 60
    assert report.cases[1].score == 25

    with pytest.raises(ValueError, match="give an agent"):
        evaluate_sync(["hi"], evaluators=["contains"])
    with pytest.raises(ValueError, match="give at least one evaluator"):
        evaluate_sync(["hi"], agent=eval_checks.agent)
    with pytest.raises(ValueError, match="invalid evaluator 'contains'"):
        evaluate_sync(["hi"], agent=eval_checks.agent, evaluators=["contains"])
    with pytest.raises(ValueError, match="1 to 200 characters"):
        evaluate_sync(["hi"], agent=eval_checks.agent, evaluators=["equals"], name=" ")
    with pytest.raises(ValueError, match="invalid agent"):
        evaluate_sync(["hi"], agent={"kind": "http"}, evaluators=[eval_checks.is_echo])
    with pytest.raises(ValueError, match="cannot run on a server"):
        evaluate_sync(["hi"], agent=eval_checks.agent, evaluators=["equals"], server="http://127.0.0.1:9")


def test_assay_run_refuses_python_evaluators_on_a_server(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from assay.cli.main import app

    suite = tmp_path / "remote.yaml"
    suite.write_text(
        "name: remote\ninstance: {kind: http, url: 'http://agent.example/chat'}\n"
        "evaluators:\n  - {type: python, function: 'eval_checks:is_echo'}\ncases:\n  - {input: hi}\n"
    )
    result = CliRunner().invoke(app, ["run", str(suite), "--server", "http://127.0.0.1:9", "--api-key", "k"])
    assert result.exit_code == 2
    assert "python evaluators run local code and cannot run on a server" in result.output


async def test_evaluate_on_a_server(server_url, engine_settings, fake) -> None:  # noqa: ANN001, F811
    setup_app = create_app(engine_settings)
    try:
        tenant = await make_env(setup_app, "evals-remote")
    finally:
        await setup_app.state.engine.dispose()
    agent = {"kind": "openai_chat", "base_url": fake.base_url, "model": "agent-model", "api_key": "sk-evals-0004"}
    report = await evaluate(
        [Case("I want a refund", name="refund"), Case("hello there", name="other")],
        agent=agent,
        evaluators=[check("contains", value="refund")],
        name="remote evals",
        server=server_url,
        api_key=tenant.key,
    )
    assert report.status == "completed" and report.stored_in == server_url
    assert (report.summary.passed, report.summary.failed) == (1, 1)
    async with httpx.AsyncClient(base_url=server_url, headers=tenant.headers) as http:
        suites = (await http.get("/v1/evaluations")).json()
    assert [s["name"] for s in suites] == ["remote evals"] and suites[0]["status"] == "completed"


async def test_cases_from_a_stored_dataset(database_url: str) -> None:
    from assay.storage import datasets as dataset_store
    from assay.storage import environments as env_store
    from assay.storage.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            env = await env_store.create_environment(session=session, name="local")
            ds = await dataset_store.create_dataset(
                session=session, environment_id=env.id, created_by_id=None, fields={"name": "golden"}
            )
            for text, name in (("plain hello", "hello"), ("weather?", "weather")):
                fields = {"dataset_id": ds.id, "input": text, "output": None, "metadata_": {"name": name}}
                await dataset_store.create_dataset_item(
                    session=session, environment_id=env.id, created_by_id=None, fields=fields
                )
            await session.commit()
    finally:
        await engine.dispose()
    report = await evaluate(
        Dataset.from_dataset("golden"), agent=eval_checks.agent, evaluators=[eval_checks.is_echo], store=database_url
    )
    assert report.name == "golden" and report.stored_in == database_url
    assert sorted((c.name, c.status) for c in report.cases) == [("hello", "passed"), ("weather", "failed")]


async def test_an_interrupted_run_resumes_with_the_cases_left(database_url: str) -> None:
    calls: list[str] = []
    released = asyncio.Event()

    async def agent(text: str) -> str:
        calls.append(text)
        if text == "c3" and not released.is_set():
            await asyncio.Event().wait()  # stuck until the run is stopped
        return f"echo: {text}"

    cases = [Case(f"c{n}", name=f"c{n}") for n in range(5)]
    options = {"agent": agent, "evaluators": [eval_checks.is_echo], "name": "resumable", "store": database_url}
    task = asyncio.create_task(evaluate(cases, concurrency=1, **options))
    async with asyncio.timeout(30):
        while "c3" not in calls:
            await asyncio.sleep(0.02)
    task.cancel()  # Ctrl-C in a notebook
    with pytest.raises(asyncio.CancelledError):
        await task
    released.set()
    calls.clear()
    report = await evaluate(cases, resume=True, **options)
    assert calls == ["c3", "c4"]  # the three finished cases were kept
    assert report.status == "completed" and [c.status for c in report.cases] == ["passed"] * 5
    again = await evaluate(cases, resume=report.run_id, **options)
    assert again.run_id == report.run_id and calls == ["c3", "c4"]  # a finished run is only read
    with pytest.raises(ValueError, match="resume needs the run's database"):
        await evaluate(cases, resume=True, agent=agent, evaluators=["equals"])
