"""Toggling an online evaluation in the web UI changes what the scheduler evaluates next (events sent through
the capture endpoint, verdicts read from the events API)."""

from __future__ import annotations

from tests.online.conftest import create_evaluation, evaluation_events, generation_event, runs, send, settle
from tests.web.conftest import form_token, sign_in


async def test_the_ui_toggle_decides_which_events_are_evaluated(http, env, running_app) -> None:  # noqa: ANN001
    evaluation = await create_evaluation(http, env, enabled=False)
    await sign_in(http, env.key)
    token = form_token((await http.get("/evaluations")).text)

    async def toggle(enabled: bool) -> None:
        answer = await http.post(
            f"/evaluations/{evaluation['id']}/enabled", data={"csrf_token": token, "enabled": str(enabled).lower()}
        )
        assert answer.status_code == 303, answer.text

    before, during, after = generation_event("u-1"), generation_event("u-2"), generation_event("u-3")
    await send(http, env, [before])
    await settle(running_app)
    assert await runs(running_app) == []
    await toggle(True)
    await send(http, env, [during])
    await settle(running_app, expected_runs=1)
    await toggle(False)
    await send(http, env, [after])
    await settle(running_app)
    assert [str(r.event_uuid) for r in await runs(running_app)] == [during["uuid"]]
    verdicts = await evaluation_events(http, env)
    assert [v["properties"]["$ai_target_event_id"] for v in verdicts] == [during["uuid"]]
