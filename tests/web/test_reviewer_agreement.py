"""The review queue split among reviewers ("my share"), and agreement per reviewer and between reviewers on the
reliability page, equal to the domain functions on the same results."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx
import pytest

from assay.domain import stats
from assay.domain.agreement import ReviewPoint, RunInfo, human_agreement
from assay.settings import Settings
from tests.conftest import Env
from tests.web.people_data import cheap_hashing_settings, make_person, signed_in_token
from tests.web.run_data import seed_run

ADA, RITA = "Ada Admin <ada@example.com>", "Rita Reviewer <rita@example.com>"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return cheap_hashing_settings(database_url)


def browser(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def my_share(client: httpx.AsyncClient, run_id: uuid.UUID) -> list[str]:
    """The result ids of this reviewer's share, walking the queue (reviewed ones too) by its next links."""
    seen: list[str] = []
    url: str | None = f"/runs/{run_id}/review?mine=1&all=1"
    while url:
        page = await client.get(url)
        assert page.status_code == 200, page.text
        seen.append(re.search(r'data-result-id="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
        found = re.search(r'data-next-url="([^"]*)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found and found.group(1) else None
    return seen


def row_data(page: str, table: str) -> list[dict[str, str]]:
    body = page.split(f'class="data {table}"')[1].split("</table>")[0]
    rows = re.findall(r"<tr (data-[^>]+)>", body)
    return [{k: html.unescape(v) for k, v in re.findall(r'data-([a-z]+)="([^"]*)"', row)} for row in rows]


async def test_shares_and_agreement_per_reviewer_and_between_reviewers(app, client, env_a: Env) -> None:  # noqa: ANN001
    await make_person(app, env_a.id, "ada@example.com", "Ada Admin", "admin")
    await make_person(app, env_a.id, "rita@example.com", "Rita Reviewer", "reviewer")
    await make_person(app, env_a.id, "vic@example.com", "Vic Viewer", "viewer")
    run = await seed_run(app.state.sessionmaker, uuid.UUID(env_a.id), 8)
    ada, rita = browser(app), browser(app)
    tokens = {ADA: await signed_in_token(ada, "ada@example.com"), RITA: await signed_in_token(rita, "rita@example.com")}

    # The queue is dealt between the two reviewers (the viewer gets no share): disjoint, covering every result.
    shares = {ADA: await my_share(ada, run.run_id), RITA: await my_share(rita, run.run_id)}
    assert not set(shares[ADA]) & set(shares[RITA])
    assert len(shares[ADA]) + len(shares[RITA]) == 8 and abs(len(shares[ADA]) - len(shares[RITA])) <= 1

    listed = await client.get(
        f"/v1/evaluations/{run.suite_id}/results", params={"task_id": str(run.run_id)}, headers=env_a.headers
    )
    scored = [r["id"] for r in listed.json() if r["score"] is not None]
    assert len(scored) == 6
    given = {
        ADA: dict(zip(scored[:5], [100.0, 0.0, 100.0, 20.0, 90.0], strict=True)),
        RITA: dict(zip(scored[1:], [0.0, 80.0, 90.0, 100.0, 0.0], strict=True)),
    }
    for who, client_ in ((ADA, ada), (RITA, rita)):
        for result_id, score in given[who].items():
            saved = await client_.post(
                f"/runs/{run.run_id}/review/{result_id}", data={"csrf_token": tokens[who], "score": str(score)}
            )
            assert saved.status_code == 303, saved.text
    # Ada scores scored[1] once more and undoes that: her first score of it stands (an undo is no verdict).
    again = await ada.post(f"/runs/{run.run_id}/review/{scored[1]}", data={"csrf_token": tokens[ADA], "score": "55"})
    assert again.status_code == 303
    undone = await ada.post(f"/runs/{run.run_id}/review/{scored[1]}/undo", data={"csrf_token": tokens[ADA]})
    assert undone.status_code == 303

    results = {
        r["id"]: r
        for r in (
            await client.get(
                f"/v1/evaluations/{run.suite_id}/results", params={"task_id": str(run.run_id)}, headers=env_a.headers
            )
        ).json()
    }
    runs = {str(run.run_id): RunInfo(run_id=str(run.run_id), pass_threshold=70.0, repetitions=1)}

    def point(result_id: str, score: float) -> ReviewPoint:
        r = results[result_id]
        return ReviewPoint(
            str(run.run_id), r["test_case_id"], r["repetition"], score, r["original_score"], True,
            r["evaluator_results"], result_id,
        )  # fmt: skip

    page = await rita.get(f"/suites/{run.suite_id}/reliability")
    assert page.status_code == 200
    shown = {(row["reviewer"], row["evaluator"]): row for row in row_data(page.text, "reviewer-agreement")}
    for who in (ADA, RITA):
        expected = human_agreement([point(rid, s) for rid, s in given[who].items()], runs)
        assert expected and {name for w, name in shown if w == who} == set(expected)
        for name, figures in expected.items():
            row = shown[(who, name)]
            assert int(row["n"]) == figures["n"]
            assert float(row["agreement"]) == figures["agreement_rate"]
            assert (row["kappa"] == "None") if figures["kappa"] is None else float(row["kappa"]) == figures["kappa"]
    assert "Ada Admin &lt;ada@example.com&gt;" in page.text

    common = [rid for rid in given[ADA] if rid in given[RITA]]
    a = [given[ADA][rid] >= 70 for rid in common]
    b = [given[RITA][rid] >= 70 for rid in common]
    (pair,) = row_data(page.text, "inter-annotator")
    assert pair["reviewers"] == f"{ADA} | {RITA}"
    assert int(pair["n"]) == len(common) == 4
    assert float(pair["kappa"]) == round(stats.cohen_kappa(a, b), 4) == 0.5  # type: ignore[arg-type]
    assert float(pair["agreement"]) == round(stats.agreement_rate(a, b), 4)  # type: ignore[arg-type]
    for other in (ada, rita):
        await other.aclose()
