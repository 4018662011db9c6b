"""Running a suite file on a running Assay server through its `/v1/` HTTP API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from assay.domain.conversations import CONVERSATION_FIELDS
from assay.domain.statuses import FINISHED_RUN_STATUSES
from assay.local.dataset_cases import remote_dataset_cases
from assay.local.outcome import RunOutcome, result_record
from assay.local.runner import Progress
from assay.local.suitefile import SuiteFile


class RemoteError(RuntimeError):
    """The server refused a request; the message carries its status and body."""


async def _send(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> Any:
    response = await client.request(method, url, **kw)
    if response.status_code >= 400:
        raise RemoteError(f"{method} {url} -> {response.status_code}: {response.text[:2000]}")
    return response.json() if response.content else None


async def run_remote(
    suite: SuiteFile,
    server: str,
    api_key: str,
    *,
    repetitions: int | None = None,
    progress: Progress | None = None,
    poll_seconds: float = 0.5,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunOutcome:
    """Create instance, recipe, suite and cases on the server, run it, wait, fetch the results."""
    reps = repetitions or suite.repetitions
    headers = {"X-Api-Key": api_key}
    async with httpx.AsyncClient(base_url=server.rstrip("/"), headers=headers, timeout=60, transport=transport) as c:
        if suite.dataset:
            cases, suite.dataset_pin = await remote_dataset_cases(c, suite.dataset, revision=suite.dataset_revision)
            suite.cases = [*suite.cases, *cases]
        suite_config: dict[str, Any] = {"repetitions": reps, "concurrency": suite.concurrency}
        if suite.dataset_pin is not None:
            suite_config["dataset"] = suite.dataset_pin
        kind = suite.instance_kind
        config = {k: v for k, v in suite.instance.items() if k != "kind"}
        instance = await _send(c, "POST", "/v1/instances", json={"name": suite.name, "kind": kind, "config": config})
        recipe = await _send(
            c,
            "POST",
            "/v1/recipes",
            json={"name": suite.name, "items": suite.items, "pass_threshold": suite.pass_threshold},
        )
        created = await _send(
            c,
            "POST",
            "/v1/evaluations",
            json={
                "name": suite.name,
                "description": suite.description,
                "instance_id": instance["id"],
                "recipe_id": recipe["id"],
                "config": suite_config,
            },
        )
        suite_id = created["id"]
        index: dict[str, int] = {}
        for i, case in enumerate(suite.cases):
            body = {
                "input_message": case["input"],
                "expected_behavior": case.get("expected_behavior"),
                "expected_tool_calls": case.get("expected_tool_calls"),
                "tags": case.get("tags") or [],
                "sort_order": i,
                **{name: case[name] for name in CONVERSATION_FIELDS if case.get(name) is not None},
            }
            row = await _send(c, "POST", f"/v1/evaluations/{suite_id}/test-cases", json=body)
            index[str(row["id"])] = i
        task_id = (await _send(c, "POST", f"/v1/evaluations/{suite_id}/run"))["task_id"]
        while True:
            task = await _send(c, "GET", f"/v1/tasks/{task_id}")
            p = task["progress"]
            if progress:
                progress(p["completed"], p["errors"], p["total"])
            if task["status"] in FINISHED_RUN_STATUSES:
                break
            await asyncio.sleep(poll_seconds)
        rows = await _send(c, "GET", f"/v1/evaluations/{suite_id}/results", params={"task_id": task_id})
    records = [result_record(suite.cases[index[r["test_case_id"]]], index[r["test_case_id"]], r) for r in rows]
    records.sort(key=lambda x: (x["case"], x["repetition"]))
    return RunOutcome(
        suite=suite.name,
        run_id=task_id,
        status=task["status"],
        summary=task.get("summary") or {},
        results=records,
        pass_threshold=suite.pass_threshold,
        where=server,
        error=task.get("error"),
        extra={"suite_id": suite_id, **({"dataset": suite.dataset_pin} if suite.dataset_pin else {})},
    )
