"""`evaluation_type: "python"`: stored, run in the sandbox on new events, `$ai_evaluation` out as for Hog;
refused (naming the layer) when the sandbox lacks a required layer; reported by /healthz."""

from __future__ import annotations

import httpx

from assay.api.app import create_app
from tests.conftest import make_env
from tests.online.conftest import create_evaluation, evaluation_events, generation_event, online_settings, send, settle
from tests.online.test_online_scheduler import HOG_KEYS

CHECK = (
    "import re\n"
    "def evaluate(input, output, properties, event, **kw):\n"
    "    print('model', properties['$ai_model'])\n"
    "    return (re.fullmatch(r'assistant: \\d+', output) is not None, f'{event[\"distinct_id\"]} got {output!r}')\n"
)


async def test_python_evaluation_emits_the_event(http, env, running_app) -> None:
    evaluation = await create_evaluation(
        http, env, name="py-eval", evaluation_type="python", evaluation_config={"source": CHECK}
    )
    assert evaluation["evaluation_config"] == {"source": CHECK, "threshold": 0.5, "scale": 1}
    target = generation_event("user-3")
    await send(http, env, [target])
    await settle(running_app, expected_runs=1)
    [ev] = await evaluation_events(http, env)
    props = ev["properties"]
    assert set(props) == HOG_KEYS
    assert props["$ai_evaluation_runtime"] == "python"
    assert props["$ai_evaluation_result"] is True
    assert props["$ai_evaluation_reasoning"] == "user-3 got 'assistant: 4'"
    assert props["$ai_target_event_id"] == target["uuid"]


async def test_python_not_applicable_scores_and_errors(http, env, running_app) -> None:
    await create_evaluation(
        http,
        env,
        name="na",
        evaluation_type="python",
        evaluation_config={"source": "def evaluate(input, output, **kw):\n    print('skipped')\n    return None\n"},
        output_config={"allows_na": True},
    )
    await create_evaluation(
        http,
        env,
        name="score",
        evaluation_type="python",
        evaluation_config={"source": "def evaluate(output, **kw):\n    return 40\n", "scale": 100, "threshold": 0.3},
    )
    await create_evaluation(
        http,
        env,
        name="boom",
        evaluation_type="python",
        evaluation_config={"source": "def evaluate(**kw):\n    1 / 0\n"},
    )
    await send(http, env, [generation_event()])
    done = await settle(running_app, expected_runs=3)
    [failed] = [run for run in done if run.status == "failed"]
    assert failed.error == "Python evaluation error: ZeroDivisionError: division by zero"
    events = {e["properties"]["$ai_evaluation_name"]: e["properties"] for e in await evaluation_events(http, env)}
    assert set(events) == {"na", "score"}
    assert events["na"]["$ai_evaluation_applicable"] is False and "$ai_evaluation_result" not in events["na"]
    assert events["na"]["$ai_evaluation_reasoning"] == "skipped"
    assert events["score"]["$ai_evaluation_result"] is True


async def test_bad_python_source_is_a_400(http, env) -> None:
    for source, message in [
        ("def evaluate(:\n", "Python syntax error (line 1)"),
        ("x = 1\n", "must define a function evaluate"),
        ("   ", "Source code cannot be empty"),
    ]:
        body = {"name": "bad", "evaluation_type": "python", "output_type": "boolean"}
        r = await http.post(
            f"{env.api}/evaluations", json={**body, "evaluation_config": {"source": source}}, headers=env.headers
        )
        assert r.status_code == 400, r.text
        assert message in r.json()["detail"]


async def test_health_reports_the_layers(http) -> None:
    body = (await http.get("/healthz")).json()
    sandbox = body["python_sandbox"]
    assert sandbox["status"] == "ok", sandbox
    assert set(sandbox["layers"]) == {
        "environment",
        "descriptors",
        "uid",
        "namespaces",
        "capabilities",
        "landlock",
        "rlimits",
        "seccomp",
    }
    assert all(v.startswith("ok") for v in sandbox["layers"].values())


async def test_refused_when_a_required_layer_is_missing(database_url, fake) -> None:
    app = create_app(online_settings(database_url, fake, sandbox_skip_layers="landlock", workers=0))
    async with app.router.lifespan_context(app):
        env = await make_env(app, "no-landlock")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            sandbox = (await http.get("/healthz")).json()["python_sandbox"]
            assert sandbox["status"] == "unavailable"
            assert sandbox["layers"]["landlock"] == "unavailable: disabled by configuration"
            body = {
                "name": "py",
                "evaluation_type": "python",
                "output_type": "boolean",
                "evaluation_config": {"source": "def evaluate(**kw):\n    return True\n"},
            }
            r = await http.post(f"{env.api}/evaluations", json=body, headers=env.headers)
            assert r.status_code == 400, r.text
            assert "required sandbox layer unavailable: landlock" in r.json()["detail"]
            hog = {**body, "evaluation_type": "hog", "evaluation_config": {"source": "return true"}}
            assert (await http.post(f"{env.api}/evaluations", json=hog, headers=env.headers)).status_code == 201


async def test_pages_show_a_python_evaluation(running_app, http, env) -> None:
    from tests.web.conftest import sign_in

    evaluation = await create_evaluation(
        http, env, name="py-page", evaluation_type="python", evaluation_config={"source": CHECK}
    )
    await sign_in(http, env.key)
    listing = await http.get("/evaluations")
    assert listing.status_code == 200 and "py-page" in listing.text and "Python" in listing.text
    editor = await http.get(f"/evaluations/{evaluation['id']}")
    assert editor.status_code == 200, editor.text
