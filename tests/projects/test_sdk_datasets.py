"""PostHog's evaluations SDK (`posthog.ai.evaluations`) as the client of Assay's datasets: revisions made by every
item change, reads at a revision and at a time, and the `/api/environments/{id}/` API on the same data."""

from __future__ import annotations

import uuid

import httpx
import pytest
from posthog.ai.evaluations import EvaluationAPIError, OfflineEvaluations
from sqlalchemy import select

from assay.storage.db import make_sessionmaker
from assay.storage.tables import EnvironmentRow
from tests.conftest import Env


async def project_number(app, env: Env) -> int:  # noqa: ANN001
    """The environment's integer alias."""
    async with make_sessionmaker(app.state.engine)() as session:
        number = await session.scalar(
            select(EnvironmentRow.project_number).where(EnvironmentRow.id == uuid.UUID(env.id))
        )
    assert isinstance(number, int) and number >= 1
    return number


async def test_every_item_change_is_a_revision_read_back_at_a_revision_and_a_time(
    app, live_url: str, env_a: Env
) -> None:  # noqa: ANN001
    number = await project_number(app, env_a)
    with OfflineEvaluations(project_id=number, secret_key=env_a.key, host=live_url, max_retries=0) as ev:
        ds = ev.datasets.create(name="qa", description="questions", tags=["Smoke", "smoke ", "ci"])
        assert ds.current_revision is None and ds.tags == ("ci", "smoke") and ds.team_id == number
        with pytest.raises(EvaluationAPIError) as taken:
            ev.datasets.create(name="qa")
        assert taken.value.status == 400 and taken.value.attr == "name"

        a = ev.datasets.create_item(ds.id, input="What is 2+2?", expected_output="4", client_item_id="q1")
        again = ev.datasets.create_item(ds.id, input="What is 2+2?", expected_output="4", client_item_id="q1")
        assert again.id == a.id and again.version_id == a.version_id and a.dataset_revision == 1
        b = ev.datasets.create_item(ds.id, input="Capital of France?", expected_output="Paris")
        assert b.dataset_revision == 2
        a2 = ev.datasets.update_item(a.id, base_version=1, expected_output="four")
        assert (a2.version, a2.dataset_revision, a2.expected_output) == (2, 3, "four")
        with pytest.raises(EvaluationAPIError) as stale:
            ev.datasets.update_item(a.id, base_version=1, expected_output="4!")
        assert stale.value.status == 409
        same = ev.datasets.update_item(a.id, base_version=2, expected_output="four")
        assert same.version_id == a2.version_id
        ev.datasets.archive_item(b.id, base_version=1)

        current = ev.datasets.get(ds.id)
        assert current.current_revision == 4
        revisions = ev.datasets.list_revisions(ds.id)
        assert [r.revision for r in revisions.results] == [4, 3, 2, 1] and revisions.count == 4
        at_two = ev.datasets.snapshot(ds.id, revision=2)
        assert at_two.revision_id == revisions.results[2].id
        assert [(i.input, i.expected_output) for i in at_two.iter_items()] == [
            ("What is 2+2?", "4"),
            ("Capital of France?", "Paris"),
        ]
        latest = ev.datasets.snapshot(ds.id)
        assert [(i.id, i.expected_output) for i in latest.iter_items()] == [(a.id, "four")]
        archived = ev.datasets.list_items(ds.id, archived=True)
        assert [i.id for i in archived.results] == [b.id]
        assert ev.datasets.get_item(a.id, revision=1).expected_output == "4"
        assert [v.version for v in ev.datasets.list_item_versions(a.id).results] == [2, 1]
        restored = ev.datasets.restore_item(b.id, base_version=2, source_version=1)
        assert (restored.version, restored.archived, restored.expected_output) == (3, False, "Paris")

    async with httpx.AsyncClient(base_url=live_url, headers=env_a.headers) as http:
        at = revisions.results[2].created_at.isoformat()  # the time revision 2 was made
        page = (await http.get(f"/api/projects/{number}/dataset_items/", params={"dataset": ds.id, "at": at})).json()
        assert [i["expected_output"] for i in page["results"]] == ["4", "Paris"]
        legacy = await http.get(f"/api/environments/{number}/dataset_items", params={"dataset": ds.id})
        assert legacy.status_code == 200
        assert sorted(i["output"] for i in legacy.json()["results"]) == ["Paris", "four"]
        r = await http.patch(f"/api/environments/{env_a.id}/dataset_items/{a.id}", json={"output": "4.0"})
        assert r.status_code == 200
        sdk_view = (await http.get(f"/api/projects/{number}/datasets/{ds.id}/")).json()
        assert sdk_view["current_revision"] == 6
        assert (
            await http.get(f"/api/projects/{number}/dataset_items/", params={"dataset": ds.id, "revision": 99})
        ).status_code == 404
        assert (await http.get(f"/api/projects/{number + 1}/datasets/")).status_code == 403
