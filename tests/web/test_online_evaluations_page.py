"""The online evaluations pages through HTTP: the list with its 24-hour counts and toggle, with CSRF, scopes,
environments and escaping enforced; numbers and writes agree with the API."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from assay.domain.statuses import EvaluationRunStatus
from assay.storage.online_tables import EvaluationRunRow
from tests.conftest import Env, add_key
from tests.web.conftest import form_token, sign_in

JUDGE = {
    "name": "helpfulness",
    "evaluation_type": "llm_judge",
    "output_type": "boolean",
    "evaluation_config": {"prompt": "Is the answer helpful?"},
    "output_config": {"allows_na": True},
}
CONDITIONS = [
    {
        "id": "c1",
        "rollout_percentage": 25,
        "properties": [{"key": "$ai_model", "value": "gpt-4o", "operator": "exact", "type": "event"}],
    }
]


async def create_evaluation(client: httpx.AsyncClient, env: Env, **fields: Any) -> dict[str, Any]:
    r = await client.post(f"{env.api}/evaluations", json={**JUDGE, **fields}, headers=env.headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def store_runs(
    app: Any,
    env: Env,
    evaluation_id: str,
    outcomes: list[tuple[str, bool | None, float]],
    events: list[str] | None = None,
    reason: str = "Too terse",
) -> None:
    """Runs of the evaluation: (status, verdict, hours ago) each, on the given event uuids or random ones."""
    now = datetime.now(UTC)
    async with app.state.sessionmaker() as session:
        for i, (status, verdict, hours_ago) in enumerate(outcomes):
            session.add(
                EvaluationRunRow(
                    workflow_id=f"{evaluation_id}-{uuid.uuid4()}-manual-{i}",
                    environment_id=uuid.UUID(env.id),
                    evaluator_id=uuid.UUID(evaluation_id),
                    event_uuid=uuid.UUID(events[i]) if events else uuid.uuid4(),
                    event_seq=i + 1,
                    source="manual",
                    status=status,
                    verdict=verdict,
                    error="Hog raised" if status == EvaluationRunStatus.FAILED else None,
                    result={"verdict": verdict, "reasoning": reason}
                    if status == EvaluationRunStatus.COMPLETED
                    else None,
                    created_at=now - timedelta(hours=hours_ago),
                )
            )
        await session.commit()


DONE, FAILED = EvaluationRunStatus.COMPLETED.value, EvaluationRunStatus.FAILED.value
OUTCOMES = [
    (DONE, True, 0.1),
    (DONE, True, 1.5),
    (DONE, True, 5),
    (DONE, False, 2),
    (DONE, None, 3),
    (FAILED, None, 4),
    (DONE, False, 30),  # outside the 24-hour window
]


def row_of(html: str, evaluation_id: str) -> str:
    found = re.search(rf'<tr data-evaluation-id="{evaluation_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {evaluation_id}"
    return found.group(1)


def cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="num {name}">([^<]*)</td>', row)
    assert found, name
    return found.group(1).strip()


async def test_list_shows_type_conditions_sampling_and_the_apis_counts(app, client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a, conditions=CONDITIONS, enabled=True)
    hog = await create_evaluation(
        client, env_a, name="non-empty", evaluation_type="hog", evaluation_config={"source": "return true"}
    )
    await store_runs(app, env_a, evaluation["id"], OUTCOMES)
    await sign_in(client, env_a.key)
    page = await client.get("/evaluations")
    assert page.status_code == 200, page.text
    row = row_of(page.text, evaluation["id"])
    stats = (await client.get(f"{env_a.api}/evaluations/{evaluation['id']}/stats", headers=env_a.headers)).json()
    assert cell(row, "passed") == str(stats["pass_count"]) == "3"
    assert cell(row, "failed") == str(stats["fail_count"]) == "1"
    assert cell(row, "na") == str(stats["na_count"]) == "1"
    assert cell(row, "errors") == str(stats["error_count"]) == "1"
    assert "LLM judge" in row and "$ai_model exact gpt-4o" in row and "25%" in row
    assert 'class="sparkline"' in row and ("<circle" in row or "<polyline" in row)
    assert "On" in row and 'aria-pressed="true"' in row
    hog_row = row_of(page.text, hog["id"])
    assert "Hog" in hog_row and "never runs online" in hog_row and cell(hog_row, "passed") == "0"


async def test_toggle_changes_enabled_as_the_api_returns_it(client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a, conditions=CONDITIONS)
    await sign_in(client, env_a.key)
    token = form_token((await client.get("/evaluations")).text)
    url = f"/evaluations/{evaluation['id']}/enabled"
    for enabled in (True, False):
        answer = await client.post(url, data={"csrf_token": token, "enabled": str(enabled).lower()})
        assert answer.status_code == 303 and answer.headers["location"] == "/evaluations", answer.text
        api = await client.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)
        assert api.json()["enabled"] is enabled
        assert api.json()["conditions"] == evaluation["conditions"]


async def test_toggle_without_csrf_is_refused(client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a)
    await sign_in(client, env_a.key)
    answer = await client.post(f"/evaluations/{evaluation['id']}/enabled", data={"enabled": "true"})
    assert answer.status_code == 403 and "CSRF" in answer.text
    api = await client.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)
    assert api.json()["enabled"] is False


async def test_read_only_key_sees_no_toggle_and_its_writes_are_refused(app, client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a)
    reader = await add_key(app, env_a, ["evaluation:read"])
    token = await sign_in(client, reader)
    page = await client.get("/evaluations")
    assert page.status_code == 200
    row = row_of(page.text, evaluation["id"])
    assert "<form" not in row and "New evaluation" not in page.text
    answer = await client.post(
        f"/evaluations/{evaluation['id']}/enabled", data={"csrf_token": token, "enabled": "true"}
    )
    assert answer.status_code == 403
    api = await client.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)
    assert api.json()["enabled"] is False


async def test_without_evaluation_read_the_list_is_refused(app, client, env_a) -> None:
    other = await add_key(app, env_a, ["dataset:read"])
    form = await client.get("/login")
    answer = await client.post("/login", data={"api_key": other, "csrf_token": form_token(form.text), "next": "/"})
    assert answer.status_code == 303
    assert (await client.get("/evaluations")).status_code == 403


async def test_another_environments_evaluation_is_404(client, env_a, env_b) -> None:
    theirs = await create_evaluation(client, env_b)
    token = await sign_in(client, env_a.key)
    page = await client.get("/evaluations")
    assert theirs["id"] not in page.text
    for target in (theirs["id"], str(uuid.uuid4()), "not-a-uuid"):
        answer = await client.post(f"/evaluations/{target}/enabled", data={"csrf_token": token, "enabled": "true"})
        assert answer.status_code == 404, (target, answer.text)
        rerun = await client.post(f"/evaluations/{target}/rerun-failed", data={"csrf_token": token})
        assert rerun.status_code == 404, (target, rerun.text)
    api = await client.get(f"{env_b.api}/evaluations/{theirs['id']}", headers=env_b.headers)
    assert api.json()["enabled"] is False


async def test_names_descriptions_and_conditions_are_escaped(client, env_a) -> None:
    nasty = "<script>alert(1)</script>"
    conditions = [{"rollout_percentage": 100, "properties": [{"key": nasty, "value": nasty, "operator": "exact"}]}]
    await create_evaluation(client, env_a, name=nasty, description=nasty, conditions=conditions)
    await sign_in(client, env_a.key)
    page = await client.get("/evaluations")
    assert nasty not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def generation(distinct_id: str) -> dict[str, Any]:
    return {
        "event": "$ai_generation",
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": {"$ai_model": "gpt-4o", "$ai_output_choices": [{"role": "assistant", "content": "4"}]},
    }


async def test_health_counts_chart_and_failures_with_reasons(app, client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a, conditions=CONDITIONS)
    nasty = "<script>alert('reason')</script>"
    await store_runs(app, env_a, evaluation["id"], [*OUTCOMES, (DONE, True, 24 * 40)], reason=nasty)
    await sign_in(client, env_a.key)
    page = await client.get(f"/evaluations/{evaluation['id']}/health")
    assert page.status_code == 200, page.text
    # 48 hours: the run 30 hours ago counts, the one 40 days ago does not
    for name, expected in (("passed", 3), ("failed", 2), ("na", 1), ("errors", 1)):
        assert re.search(rf'id="total-{name}">{expected}<', page.text), name
    assert 'class="stacked-bars"' in page.text and page.text.count("<rect x=") >= 4
    assert "Hog raised" in page.text and nasty not in page.text and "&lt;script&gt;" in page.text
    assert page.text.count('class="reason"') == 3  # two failed verdicts and one error
    month = await client.get(f"/evaluations/{evaluation['id']}/health", params={"range": "30d"})
    assert re.search(r'id="total-passed">3<', month.text)
    assert (await client.get(f"/evaluations/{evaluation['id']}/health", params={"range": "1y"})).status_code == 422
    bad = await client.get(f"/evaluations/{evaluation['id']}/health", params={"after": "nonsense"})
    assert bad.status_code == 422


async def test_failures_page_by_keyset(app, client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a)
    await store_runs(app, env_a, evaluation["id"], [(DONE, False, i / 10) for i in range(30)])
    await sign_in(client, env_a.key)
    first = await client.get(f"/evaluations/{evaluation['id']}/health")
    assert first.text.count('class="reason"') == 25
    older = re.search(r'href="([^"]+)#failures" rel="next"', first.text)
    assert older, "no next page link"
    second = await client.get(f"/evaluations/{evaluation['id']}/health" + older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and second.text.count('class="reason"') == 5
    assert 'rel="next"' not in second.text


async def test_rerun_failed_queues_manual_runs_of_the_failed_events(app, client, env_a) -> None:
    evaluation = await create_evaluation(client, env_a)
    events = [generation(f"user-{i}") for i in range(4)]
    r = await client.post("/batch/", json={"api_key": env_a.project_token, "batch": events})
    assert r.status_code == 200, r.text
    uuids = [e["uuid"] for e in events]
    # event 0 passed (and failed 3 days ago: outside 48 h), 1 failed, 2 errored, 3 failed twice (queued once)
    outcomes = [(DONE, True, 1), (DONE, False, 1), (FAILED, None, 2), (DONE, False, 3), (DONE, False, 4)]
    await store_runs(app, env_a, evaluation["id"], [*outcomes, (DONE, False, 72)], events=[*uuids, uuids[3], uuids[0]])
    token = await sign_in(client, env_a.key)
    page = await client.get(f"/evaluations/{evaluation['id']}/health")
    assert "Re-run failed" in page.text
    answer = await client.post(
        f"/evaluations/{evaluation['id']}/rerun-failed", data={"csrf_token": token, "range": "48h"}
    )
    assert answer.status_code == 303, answer.text
    assert "queued=3" in answer.headers["location"]
    after = await client.get(answer.headers["location"])
    assert "Queued 3 runs of failed events." in after.text
    runs = await client.get(
        f"{env_a.api}/evaluation_runs",
        params={"evaluation_id": evaluation["id"], "status": "queued"},
        headers=env_a.headers,
    )
    queued = runs.json()["results"]
    assert sorted(run["target_event_id"] for run in queued) == sorted(uuids[1:4])
    assert {run["source"] for run in queued} == {"manual"}

    no_csrf = await client.post(f"/evaluations/{evaluation['id']}/rerun-failed", data={"range": "48h"})
    assert no_csrf.status_code == 403


async def test_health_scopes_and_environments(app, client, env_a, env_b) -> None:
    mine = await create_evaluation(client, env_a)
    theirs = await create_evaluation(client, env_b)
    reader = await add_key(app, env_a, ["evaluation:read"])
    token = await sign_in(client, reader)
    await store_runs(app, env_a, mine["id"], [(DONE, False, 1)])
    page = await client.get(f"/evaluations/{mine['id']}/health")
    assert page.status_code == 200 and "Re-run failed" not in page.text and "<form" not in page.text.split("<main")[1]
    refused = await client.post(f"/evaluations/{mine['id']}/rerun-failed", data={"csrf_token": token})
    assert refused.status_code == 403
    for target in (theirs["id"], str(uuid.uuid4()), "nope"):
        assert (await client.get(f"/evaluations/{target}/health")).status_code == 404, target


def editor_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "answers briefly",
        "description": "",
        "evaluation_type": "hog",
        "source": "return length(output) < 500",
        "allows_na": "on",
        "conditions": '[{"properties": [], "rollout_percentage": 50}]',
    }
    return {**form, **changes}


async def test_editor_creates_and_saves_as_the_api_then_returns(client, env_a) -> None:
    token = await sign_in(client, env_a.key)
    page = await client.get("/evaluations/new", params={"type": "hog"})
    assert page.status_code == 200 and 'id="hog-source"' in page.text
    created = await client.post("/evaluations/new", data={"csrf_token": token, **editor_form()})
    assert created.status_code == 303, created.text
    evaluation_id = created.headers["location"].split("/")[2].split("?")[0]
    api = (await client.get(f"{env_a.api}/evaluations/{evaluation_id}", headers=env_a.headers)).json()
    assert api["evaluation_type"] == "hog" and api["evaluation_config"]["source"] == "return length(output) < 500"
    assert api["evaluation_config"]["bytecode"] and api["output_config"] == {"allows_na": True}
    assert api["conditions"][0]["rollout_percentage"] == 50 and api["enabled"] is False

    judge = editor_form(evaluation_type="llm_judge", prompt="Is it polite?", provider="openai", model="gpt-4o-mini")
    saved = await client.post(f"/evaluations/{evaluation_id}", data={"csrf_token": token, **judge, "enabled": "on"})
    assert saved.status_code == 303, saved.text
    api = (await client.get(f"{env_a.api}/evaluations/{evaluation_id}", headers=env_a.headers)).json()
    assert api["evaluation_type"] == "llm_judge" and api["evaluation_config"] == {"prompt": "Is it polite?"}
    assert api["model_configuration"]["model"] == "gpt-4o-mini" and api["enabled"] is True
    shown = await client.get(f"/evaluations/{evaluation_id}")
    assert "Is it polite?" in shown.text and 'value="gpt-4o-mini"' in shown.text


async def test_bad_hog_source_is_refused_with_its_line_and_nothing_saved(client, env_a) -> None:
    evaluation = await create_evaluation(
        client, env_a, evaluation_type="hog", evaluation_config={"source": "return true"}
    )
    token = await sign_in(client, env_a.key)
    bad = "let x := 1\nreturn x +"
    answer = await client.post(
        f"/evaluations/{evaluation['id']}", data={"csrf_token": token, **editor_form(source=bad)}
    )
    assert answer.status_code == 400
    assert "line 2, column 11" in answer.text and "Line 2, column 11: Unexpected end of input" in answer.text
    api = (await client.get(f"{env_a.api}/evaluations/{evaluation['id']}", headers=env_a.headers)).json()
    assert api["evaluation_config"]["source"] == "return true"
    api_answer = await client.patch(
        f"{env_a.api}/evaluations/{evaluation['id']}",
        json={"evaluation_config": {"source": bad}},
        headers=env_a.headers,
    )
    assert api_answer.status_code == 400  # the same refusal through the API
    for form in (editor_form(conditions="[oops"), editor_form(name=" "), editor_form(evaluation_type="sql")):
        refused = await client.post("/evaluations/new", data={"csrf_token": token, **form})
        assert refused.status_code == 400, form


async def test_compile_endpoint_reports_line_and_column(client, env_a) -> None:
    token = await sign_in(client, env_a.key)
    url = "/evaluations/compile"
    ok = await client.post(url, json={"source": "return true"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json() == {"errors": []}
    bad = await client.post(url, json={"source": "let a := 1\n\nreturn 'open"}, headers={"X-CSRF-Token": token})
    assert bad.json() == {"errors": [{"line": 3, "column": 8, "message": "Unterminated string literal"}]}
    assert (await client.post(url, json={"source": "return 1"})).status_code == 403  # no CSRF header
    assert (await client.post(url, json={}, headers={"X-CSRF-Token": token})).status_code in (400, 422)


async def test_editor_read_only_other_env_and_escaping(app, client, env_a, env_b) -> None:
    nasty = "<script>alert(1)</script>"
    mine = await create_evaluation(client, env_a, name=nasty, evaluation_config={"prompt": nasty})
    theirs = await create_evaluation(client, env_b)
    reader = await add_key(app, env_a, ["evaluation:read"])
    token = await sign_in(client, reader)
    page = await client.get(f"/evaluations/{mine['id']}")
    assert page.status_code == 200 and nasty not in page.text and "&lt;script&gt;" in page.text
    assert "<fieldset disabled>" in page.text and 'type="submit" class="primary">Save' not in page.text
    refused = await client.post(f"/evaluations/{mine['id']}", data={"csrf_token": token, **editor_form()})
    assert refused.status_code == 403
    assert (await client.get("/evaluations/new")).status_code == 403
    for target in (theirs["id"], str(uuid.uuid4()), "nope"):
        assert (await client.get(f"/evaluations/{target}")).status_code == 404, target


async def test_playground_output_equals_test_hogs_and_saves_nothing(client, env_a) -> None:
    events = [generation(f"user-{i}") for i in range(3)]
    events[1]["properties"]["$ai_output_choices"] = [{"role": "assistant", "content": "<script>x</script> long"}]
    r = await client.post("/batch/", json={"api_key": env_a.project_token, "batch": events})
    assert r.status_code == 200, r.text
    source = "print(concat('length ', toString(length(output))))\nreturn length(output) < 50"
    draft = {"source": source, "sample_count": 3, "allows_na": False, "conditions": []}
    api = await client.post(f"{env_a.api}/evaluations/test_hog", json=draft, headers=env_a.headers)
    assert api.status_code == 200, api.text
    token = await sign_in(client, env_a.key)
    ui = await client.post("/evaluations/playground", json=draft, headers={"X-CSRF-Token": token})
    assert ui.status_code == 200, ui.text
    assert ui.json()["results"] == api.json()["results"] and len(api.json()["results"]) == 3
    assert {r["reasoning"].split(" ")[0] for r in ui.json()["results"]} == {"length"}
    assert sorted(r["result"] for r in ui.json()["results"]) == [False, True, True]
    listed = await client.get(f"{env_a.api}/evaluations", headers=env_a.headers)
    assert listed.json()["count"] == 0
    bad = await client.post(
        "/evaluations/playground", json={**draft, "source": "return ("}, headers={"X-CSRF-Token": token}
    )
    assert bad.status_code == 400 and bad.json()["error"].startswith("Compilation error")
    assert (await client.post("/evaluations/playground", json=draft)).status_code == 403  # no CSRF header
