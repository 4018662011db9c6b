"""A `python` recipe item: stored with the recipe, run in the sandbox for every case of a run."""

from __future__ import annotations

from tests.engine.conftest import create_instance, create_suite, wait_for_task

SOURCE = (
    "import json\n"
    "def evaluate(input, output, expected, metadata, **kw):\n"
    "    data = json.loads(output.strip('`').removeprefix('json'))\n"
    "    return {'score': 1.0 if data['city'] == expected else 0.0, 'reason': f\"city is {data['city']}\"}\n"
)


async def test_python_item_in_a_run(engine_client, tenant, fake) -> None:
    fake.set_scenario({"rules": [{"model": "agent-model", "reply": '```json\n{"city": "Paris"}\n```'}]})
    instance_id = await create_instance(engine_client, tenant, fake)
    recipe = {
        "name": "python",
        "items": [
            {"evaluator": {"type": "python", "name": "city", "source": SOURCE}},
            {
                "evaluator": {
                    "type": "python",
                    "name": "crash",
                    "source": "def evaluate(**kw):\n    raise KeyError('x')\n",
                }
            },
        ],
    }
    r = await engine_client.post("/v1/recipes", json=recipe, headers=tenant.headers)
    assert r.status_code == 201, r.text
    suite_id = await create_suite(
        engine_client,
        tenant,
        instance_id=instance_id,
        recipe_id=r.json()["id"],
        cases=[
            {"input_message": "weather?", "expected_behavior": "Paris"},
            {"input_message": "weather!", "expected_behavior": "Rome"},
        ],
    )
    task_id = (await engine_client.post(f"/v1/evaluations/{suite_id}/run", headers=tenant.headers)).json()["task_id"]
    await wait_for_task(engine_client, tenant, task_id)
    results = (await engine_client.get(f"/v1/evaluations/{suite_id}/results", headers=tenant.headers)).json()
    paris, rome = sorted((res["evaluator_results"] for res in results), key=lambda items: -items[0]["score"])
    assert (paris[0]["status"], paris[0]["score"], paris[0]["reason"]) == ("passed", 1.0, "city is Paris")
    assert (rome[0]["status"], rome[0]["score"]) == ("failed", 0.0)
    assert paris[1]["status"] == "error" and paris[1]["error"] == "KeyError: 'x'"


async def test_bad_python_item_is_a_422(engine_client, tenant) -> None:
    recipe = {"name": "bad", "items": [{"evaluator": {"type": "python", "source": "def nope(:\n"}}]}
    r = await engine_client.post("/v1/recipes", json=recipe, headers=tenant.headers)
    assert r.status_code == 422, r.text
    assert "Python syntax error" in r.text
