"""`assay compare` and `assay agreement`: run comparison and judge reliability, through a server's HTTP API.

Exit codes: 0 done; 1 only with `--fail-on-regression`, when the head run's drop is significant;
2 invalid input (malformed ids, unknown or mismatched tasks, rejected key or parameters); 3 the server
could not be reached or failed.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True)
SHOWN_CASES = 20

Server = Annotated[str, typer.Option("--server", envvar="ASSAY_SERVER_URL", help="Assay server URL.")]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="ASSAY_API_KEY", help="API key with evaluation:read.")]
OptionalServer = Annotated[
    str | None,
    typer.Option("--server", envvar="ASSAY_SERVER_URL", help="Assay server URL; default: the local database."),
]
OptionalApiKey = Annotated[
    str | None, typer.Option("--api-key", envvar="ASSAY_API_KEY", help="API key with evaluation:read (with --server).")
]


def _compare_local(base: str, head: str, alpha: float) -> dict[str, Any]:
    """The comparison computed on the local database (`assay run` stores its runs there)."""
    import asyncio

    from assay.cli.context import open_session
    from assay.domain.compare import compare_runs
    from assay.settings import get_settings
    from assay.storage import analysis as store
    from assay.storage.run_tables import RunRow

    async def run() -> dict[str, Any]:
        async with open_session(get_settings()) as session:
            rows = [await session.get(RunRow, uuid.UUID(i)) for i in (base, head)]
            missing = [i for i, r in zip((base, head), rows, strict=True) if r is None]
            if missing:
                raise _fail(f"no run {missing[0]} in the local database ({get_settings().database_url})", 2)
            base_row, head_row = rows
            assert base_row is not None and head_row is not None
            if base_row.suite_id != head_row.suite_id:
                raise _fail("the two runs belong to different suites: nothing to pair", 2)
            points = [await store.result_points(session=session, run_id=r.id) for r in (base_row, head_row)]
            body = compare_runs(points[0], points[1], alpha=alpha)
            for key, r in (("base", base_row), ("head", head_row)):
                body[key] = {**body[key], "task_id": str(r.id), "status": r.status}
            return {"evaluation_id": str(base_row.suite_id), **body}

    return asyncio.run(run())


AsJson = Annotated[bool, typer.Option("--json", help="Print the API's JSON answer.")]


def _fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail(f"{what} is not a task/evaluation id: {value!r}", 2) from None


def _get(server: str, api_key: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET a JSON body; 4xx → exit 2, unreachable or 5xx → exit 3."""
    import httpx

    try:
        with httpx.Client(
            base_url=server.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"}, timeout=60
        ) as http:
            r = http.get(path, params=params)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach {server}: {exc}", 3) from None
    if r.status_code >= 500:
        raise _fail(f"the server failed ({r.status_code}): {r.text[:500]}", 3)
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise _fail(f"{r.status_code} from {path}: {detail}", 2)
    return r.json()


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _signed(value: Any, digits: int = 2) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def _case_table(title: str, cases: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{title} ({len(cases)})", title_justify="left")
    for column in ("test case", "base", "head", "change", "head reason"):
        table.add_column(column)
    for c in cases[:SHOWN_CASES]:
        reason = (c.get("head_reason") or "").splitlines()
        table.add_row(
            c["test_case_id"],
            _fmt(c["base_score"]),
            _fmt(c["head_score"]),
            _signed(c["difference"]),
            reason[-1][:80] if reason else "",
        )
    return table


def print_comparison(console: Console, body: dict[str, Any]) -> None:
    """Summary table, tests, and the regressed and improved cases."""
    score, latency, tokens, rate = body["score"], body["latency"], body["tokens"], body["pass_rate"]
    table = Table(title=f"{body['base']['task_id']} → {body['head']['task_id']}", title_justify="left")
    for column in ("metric", "base", "head", "change"):
        table.add_column(column, justify="right" if column != "metric" else "left")
    table.add_row("mean score", _fmt(score["mean_base"]), _fmt(score["mean_head"]), _signed(score["mean_difference"]))
    table.add_row("pass rate", _fmt(rate["base"], 3), _fmt(rate["head"], 3), _signed(rate["change"], 3))
    table.add_row(
        "latency p50 ms", _fmt(latency["p50_base_ms"]), _fmt(latency["p50_head_ms"]), _signed(latency["p50_change_ms"])
    )
    table.add_row(
        "latency mean ms",
        _fmt(latency["mean_base_ms"]),
        _fmt(latency["mean_head_ms"]),
        _signed(latency["mean_change_ms"]),
    )
    table.add_row(
        "tokens / result", _fmt(tokens["mean_base"]), _fmt(tokens["mean_head"]), _signed(tokens["mean_change"])
    )
    console.print(table)
    wil, sign = body["wilcoxon"], body["sign_test"]
    console.print(
        f"{body['n_paired']} paired cases; score change {_signed(score['mean_difference'])} "
        f"(95 % CI {_fmt(score['ci_low'])} to {_fmt(score['ci_high'])}); "
        f"Wilcoxon p = {_fmt(wil['p_value'], 4)} ({wil['method']}), sign test p = {_fmt(sign['p_value'], 4)}"
    )
    unpaired = body["unpaired"]
    if any(unpaired.values()):
        console.print(
            f"unpaired: {len(unpaired['base_only'])} only in base, {len(unpaired['head_only'])} only in head, "
            f"{len(unpaired['unscored'])} unscored"
        )
    for title, key in (("Regressed", "regressed"), ("Improved", "improved")):
        if body[key]:
            console.print(_case_table(title, body[key]))
    if body["significant_regression"]:
        console.print(f"[red]significant regression[/red] (p < {body['alpha']})")
    else:
        console.print(f"no significant regression (alpha {body['alpha']})")


def compare(
    base: Annotated[str, typer.Argument(help="Run id (task id) of the baseline run.")],
    head: Annotated[str, typer.Argument(help="Run id (task id) of the run to compare with the baseline.")],
    server: OptionalServer = None,
    api_key: OptionalApiKey = None,
    evaluation: Annotated[
        str | None, typer.Option("--evaluation", help="Evaluation id; default: the base task's evaluation.")
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", min=0, max=1, help="Significance level.")] = 0.05,
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Exit 1 when the score drop is significant (p < alpha).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Compare two runs (task ids) of one evaluation: score change with CI and tests, regressed cases.

    BASE and HEAD are task ids on `--server`, or, without it, run ids of the local database that `assay run`
    prints (runs of the same suite file pair up case by case).
    """
    if not 0 < alpha < 1:
        raise _fail("--alpha must be between 0 and 1 (exclusive)", 2)
    base, head = _uuid(base, "BASE"), _uuid(head, "HEAD")
    if server is None:
        body = _compare_local(base, head, alpha)
    else:
        if not api_key:
            raise _fail("--api-key (or ASSAY_API_KEY) is needed with --server", 2)
        if evaluation is None:
            evaluation = str(_get(server, api_key, f"/v1/tasks/{base}")["evaluation_id"])
        evaluation = _uuid(evaluation, "--evaluation")
        body = _get(
            server, api_key, f"/v1/evaluations/{evaluation}/compare", {"base": base, "head": head, "alpha": alpha}
        )
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        print_comparison(Console(), body)
    if fail_on_regression and body["significant_regression"]:
        raise typer.Exit(1)


def print_agreement(console: Console, body: dict[str, Any]) -> None:
    """One row per evaluator: human agreement and repetition stability."""
    table = Table(
        title=f"{body['runs']} runs, {body['reviewed_results']} reviewed results, {body['repeated_runs']} with repetitions",
        title_justify="left",
    )
    for column in (
        "evaluator",
        "type",
        "reviewed",
        "agreement",
        "kappa",
        "MAE",
        "repeated cases",
        "score SD",
        "flip rate",
    ):
        table.add_column(column, justify="left" if column in ("evaluator", "type") else "right")
    for e in body["evaluators"]:
        h, r = e.get("human") or {}, e.get("repetitions") or {}
        table.add_row(
            e["evaluator"],
            e.get("type") or "",
            _fmt(h.get("n")),
            _fmt(h.get("agreement_rate"), 3),
            _fmt(h.get("kappa"), 3),
            _fmt(h.get("mean_absolute_error")),
            _fmt(r.get("cases")),
            _fmt(r.get("mean_score_sd")),
            _fmt(r.get("flip_rate"), 3),
        )
    console.print(table)
    if not body["evaluators"]:
        console.print("nothing to measure yet: override some scores, or run with config.repetitions > 1")


def agreement(
    evaluation_id: Annotated[str, typer.Argument(help="Evaluation id.")],
    server: Server,
    api_key: ApiKey,
    task: Annotated[str | None, typer.Option("--task", help="Only this run (task id); default: every run.")] = None,
    as_json: AsJson = False,
) -> None:
    """How far the judges agree with human score overrides, and how stable they are across repetitions."""
    evaluation_id = _uuid(evaluation_id, "EVALUATION_ID")
    params = {"task_id": _uuid(task, "--task")} if task else None
    body = _get(server, api_key, f"/v1/evaluations/{evaluation_id}/agreement", params)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        print_agreement(Console(), body)
