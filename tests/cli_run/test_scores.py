"""`assay run` and scores: errored cases stay out of the mean, a run that scored nothing never passes by
default, and the effective concurrency is shown."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_run.conftest import run_cli

HEAD = """\
name: scores suite
instance:
  kind: python
  callable: toy_agent:echo
  timeout_s: 5
evaluators:
  - type: contains
    value: echo
  - type: hog
    source: |
      if (output = 'echo: odd') {
        return 'not a verdict'
      }
      return true
cases:
"""


def _suite(workdir: Path, name: str, *inputs: str) -> str:
    (workdir / name).write_text(HEAD + "".join(f"  - input: {i}\n" for i in inputs))
    return name


def test_an_errored_evaluator_leaves_the_case_out_of_the_mean(workdir: Path) -> None:
    r = run_cli(workdir, "run", _suite(workdir, "s.yaml", "hello", "odd"), "--json", "out.json")
    assert r.returncode == 0, r.stderr  # one case scored: no gate, so the run passes
    data = json.loads((workdir / "out.json").read_text())
    summary = data["summary"]
    assert (summary["passed"], summary["error"], summary["scored"], summary["mean_score"]) == (1, 1, 1, 100)
    odd = next(x for x in data["results"] if x["input"] == "odd")
    assert odd["status"] == "error" and odd["score"] is None
    assert odd["error"].startswith("hog: Must return boolean, null or a number 0-100")
    assert "The evaluators that ran scored 100." in odd["reason"]
    assert "mean score 100 (over 1 scored)" in r.stdout


def test_a_run_where_nothing_could_be_scored_exits_3(workdir: Path) -> None:
    name = _suite(workdir, "boom.yaml", "boom one", "odd", "boom two")
    r = run_cli(workdir, "run", name, "-q")
    assert r.returncode == 3, r.stderr
    assert "nothing could be scored: 3 of 3 results errored and none passed or failed" in r.stderr
    assert "RuntimeError: the agent exploded" in r.stderr  # the first error, so the cause is on screen
    gated = run_cli(workdir, "run", name, "-q", "--fail-under", "0.5")
    assert gated.returncode == 3 and "pass_rate 0 is under --fail-under" in gated.stderr
    assert run_cli(workdir, "run", name, "-q", "--max-errors", "2").returncode == 3
    assert run_cli(workdir, "run", name, "-q", "--max-errors", "3").returncode == 0  # errors allowed explicitly


def test_the_effective_concurrency_is_shown(workdir: Path, fake) -> None:  # noqa: ANN001
    suite = f"""\
name: capped
instance:
  kind: openai_chat
  base_url: {fake.base_url}
  model: agent-model
  max_concurrency: 2
concurrency: 10
evaluators:
  - type: contains
    value: hi
cases:
  - input: hi one
  - input: hi two
"""
    (workdir / "c.yaml").write_text(suite)
    r = run_cli(workdir, "run", "c.yaml", "--json", "c.json", "--html", "c.html")
    assert r.returncode == 0, r.stderr
    limits = json.loads((workdir / "c.json").read_text())["summary"]["concurrency"]
    assert (limits["requested"], limits["effective"], limits["limited_by"]) == (10, 2, ["instance"])
    assert "concurrency 2 of 10 requested" in r.stdout
    assert "note: At most 2 cases run at once: the instance's max_concurrency (2) caps the requested" in r.stdout
    page = (workdir / "c.html").read_text()
    assert "<b>2 of 10</b><span>Concurrency</span>" in page and "<span>Mean score (2 scored)</span>" in page


def test_a_python_instance_runs_as_many_cases_at_once_as_the_suite_asks(workdir: Path) -> None:
    n = 40  # above any default thread pool (at most 32 threads)
    cases = "".join(f"  - input: case {i} of {n}\n" for i in range(n))
    (workdir / "t.yaml").write_text(f"""\
name: together
instance:
  kind: python
  callable: toy_agent:together
  timeout_s: 30
concurrency: {n}
evaluators:
  - type: contains
    value: together
cases:
{cases}""")
    r = run_cli(workdir, "run", "t.yaml", "-q", "--json", "t.json")
    assert r.returncode == 0, r.stderr
    summary = json.loads((workdir / "t.json").read_text())["summary"]
    assert summary["passed"] == n and summary["concurrency"]["effective"] == n
