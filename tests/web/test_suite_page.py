"""The suite page through HTTP: header, cases (search, tag filter, add, edit, delete, import), run history,
the Run button and the compare picker, with CSRF, scopes and environments enforced."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest

from assay.api.app import create_app
from assay.settings import Settings
from assay.storage import environments as env_store
from assay.storage import runs as run_store
from assay.storage.db import make_sessionmaker
from tests.conftest import Env, add_key, make_env
from tests.web.conftest import form_token, sign_in, snapshot_of


async def make_suite(
    client: httpx.AsyncClient,
    env: Env,
    *,
    cases: list[dict[str, Any]] = (),  # type: ignore[assignment]
    base_url: str = "http://127.0.0.1:9/v1",
    config: dict[str, Any] | None = None,
    name: str = "checkout agent",
) -> str:
    """A suite with an instance (an OpenAI-compatible agent at `base_url`) and `cases`, made through the API."""
    instance = await client.post(
        "/v1/instances",
        json={
            "name": "support bot",
            "kind": "openai_chat",
            "config": {"base_url": base_url, "model": "agent-model", "api_key": "sk-agent-0001"},
        },
        headers=env.headers,
    )
    assert instance.status_code == 201, instance.text
    suite = await client.post(
        "/v1/evaluations",
        json={
            "name": name,
            "description": "Answers order questions.",
            "instance_id": instance.json()["id"],
            "config": config or {},
        },
        headers=env.headers,
    )
    assert suite.status_code == 201, suite.text
    suite_id: str = suite.json()["id"]
    for case in cases:
        r = await client.post(f"/v1/evaluations/{suite_id}/test-cases", json=case, headers=env.headers)
        assert r.status_code == 201, r.text
    return suite_id


async def api_cases(client: httpx.AsyncClient, env: Env, suite_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/evaluations/{suite_id}/test-cases", headers=env.headers)
    assert r.status_code == 200
    cases: list[dict[str, Any]] = r.json()
    return cases


def case_inputs(html: str) -> list[str]:
    """The input column of the cases table, in order."""
    table = html.split('<table class="data cases">', 1)
    if len(table) == 1:
        return []
    body = table[1].split("</table>", 1)[0]
    return re.findall(r'<td class="clip"><a href="/suites/[^"]+/cases/[^"]+" title="[^"]*">([^<]*)</a>', body)


async def test_header_cases_and_links(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(
        client,
        env_a,
        cases=[
            {"input_message": "Where is order A1?", "expected_behavior": "Gives the status", "tags": ["orders"]},
            {"input_message": "Refund B2", "expected_tool_calls": [{"name": "refund", "arguments": {"id": "B2"}}]},
        ],
    )
    await sign_in(client, env_a.key)
    page = await client.get(f"/suites/{suite_id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>checkout agent</h1>" in html and "Answers order questions." in html
    assert "support bot" in html and "default" in html
    assert re.search(r'id="case-count">2<', html)
    assert f'href="/suites/{suite_id}/reliability"' in html
    assert "Latest run" not in html and "No runs yet." in html
    assert case_inputs(html) == ["Where is order A1?", "Refund B2"]
    assert "<code>refund</code>" in html and '<span class="tag">orders</span>' in html
    async with make_sessionmaker(app.state.engine)() as session:
        run = await run_store.create_run(
            session=session,
            environment_id=uuid.UUID(env_a.id),
            suite_id=uuid.UUID(suite_id),
            snapshot=snapshot_of({"cases": [{"id": "c"}], "repetitions": 1}),
        )
        await session.commit()
    html = (await client.get(f"/suites/{suite_id}")).text
    assert f'href="/runs/{run.id}">Latest run' in html


async def test_search_and_tag_filter_are_server_side_and_paginated(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(
        client,
        env_a,
        cases=[
            {"input_message": "Track parcel 7", "tags": ["shipping"], "sort_order": 1},
            {"input_message": "Cancel my plan", "expected_behavior": "Mentions the PARCEL policy", "sort_order": 2},
            {"input_message": "100% off?", "tags": ["billing", "promo"], "sort_order": 3},
            {"input_message": "Reset password", "tags": ["account", 7], "sort_order": 4},
        ],
    )
    await sign_in(client, env_a.key)
    base = f"/suites/{suite_id}"
    assert case_inputs((await client.get(base, params={"q": "parcel"})).text) == ["Track parcel 7", "Cancel my plan"]
    assert case_inputs((await client.get(base, params={"q": "100%"})).text) == ["100% off?"]
    assert case_inputs((await client.get(base, params={"q": "_"})).text) == []  # LIKE wildcards are literal
    assert case_inputs((await client.get(base, params={"tag": "promo"})).text) == ["100% off?"]
    assert case_inputs((await client.get(base, params={"tag": "7"})).text) == []  # only string tags are tags
    assert case_inputs((await client.get(base, params={"q": "parcel", "tag": "shipping"})).text) == ["Track parcel 7"]
    html = (await client.get(base)).text
    options = re.findall(r'<option value="([^"]+)"', html)
    assert options == ["account", "billing", "promo", "shipping"]
    filtered = (await client.get(base, params={"tag": "billing"})).text
    assert '<option value="billing" selected>' in filtered and "1 case matches" in filtered

    # 120 cases: pages of 50, keyset cursors, the filter carried along.
    lines = "input,tags\n" + "".join(f"bulk case {i:03d},{'even' if i % 2 == 0 else 'odd'}\n" for i in range(120))
    token = form_token(html)
    r = await client.post(
        f"{base}/import", data={"csrf_token": token}, files={"file": ("bulk.csv", lines.encode(), "text/csv")}
    )
    assert r.status_code == 303
    first = (await client.get(base, params={"tag": "even"})).text
    assert "60 cases match" in first
    assert case_inputs(first) == [f"bulk case {i:03d}" for i in range(0, 100, 2)]
    next_link = re.search(r'href="(\?[^"]*cursor=[^"]+)#cases" rel="next"', first)
    assert next_link is not None
    second = (await client.get(base + next_link.group(1).replace("&amp;", "&"))).text
    assert case_inputs(second) == [f"bulk case {i:03d}" for i in range(100, 120, 2)]
    assert 'rel="next"' not in second.split('id="runs"')[0] and "First page" in second
    bad = await client.get(base, params={"cursor": "nope"})
    assert bad.status_code == 422


async def test_add_edit_and_delete_a_case_through_the_forms(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(client, env_a)
    token = await sign_in(client, env_a.key)
    base = f"/suites/{suite_id}"
    form = {
        "csrf_token": token,
        "input_message": "Where is order 9?",
        "expected_behavior": "Looks the order up",
        "expected_tool_calls": '[{"name": "lookup_order", "arguments": {"order_id": "9"}}]',
        "tags": "orders, vip",
        "sort_order": "3",
    }
    added = await client.post(f"{base}/cases", data=form)
    assert added.status_code == 303 and added.headers["location"] == f"{base}?notice=added#cases"
    assert "Test case added." in (await client.get(added.headers["location"])).text
    (case,) = await api_cases(client, env_a, suite_id)
    assert case["input_message"] == "Where is order 9?" and case["expected_behavior"] == "Looks the order up"
    assert case["expected_tool_calls"] == [{"name": "lookup_order", "arguments": {"order_id": "9"}}]
    assert case["tags"] == ["orders", "vip"] and case["sort_order"] == 3

    edit_page = await client.get(f"{base}/cases/{case['id']}")
    assert edit_page.status_code == 200 and 'value="orders, vip"' in edit_page.text
    assert "lookup_order" in edit_page.text
    edited = await client.post(
        f"{base}/cases/{case['id']}",
        data={**form, "input_message": "Where is order 10?", "expected_tool_calls": "", "tags": '["a,b"]'},
    )
    assert edited.status_code == 303
    (case,) = await api_cases(client, env_a, suite_id)
    assert case["input_message"] == "Where is order 10?" and case["expected_tool_calls"] is None
    assert case["tags"] == ["a,b"]
    assert "[\n  &#34;a,b&#34;\n]" in (await client.get(f"{base}/cases/{case['id']}")).text

    deleted = await client.post(f"{base}/cases/{case['id']}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{base}?notice=deleted#cases"
    assert await api_cases(client, env_a, suite_id) == []
    again = await client.post(f"{base}/cases/{case['id']}/delete", data={"csrf_token": token})
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"input_message": ""}, "input_message"),
        ({"expected_tool_calls": "[{oops"}, "expected_tool_calls: invalid JSON"),
        ({"expected_tool_calls": '{"name": "x"}'}, "expected_tool_calls: Input should be a valid list"),
        ({"tags": "[1, "}, "tags: invalid JSON list"),
        ({"sort_order": "first"}, "sort_order: must be a whole number"),
        ({"sort_order": str(2**31)}, "sort_order"),
        ({"input_message": "x" * 100_001}, "input_message: String should have at most 100000 characters"),
        ({"input_message": "nul \x00 here"}, "Null characters are not allowed."),
    ],
)
async def test_a_bad_case_is_shown_again_with_its_problem(
    client: httpx.AsyncClient, env_a: Env, changes: dict[str, str], message: str
) -> None:
    suite_id = await make_suite(client, env_a)
    token = await sign_in(client, env_a.key)
    form = {"csrf_token": token, "input_message": "kept text", "tags": "t1", **changes}
    answer = await client.post(f"/suites/{suite_id}/cases", data=form)
    assert answer.status_code == 422
    assert message in answer.text and '<details id="add-case" open>' in answer.text
    if "input_message" not in changes:
        assert ">kept text</textarea>" in answer.text
    assert await api_cases(client, env_a, suite_id) == []


async def test_writes_without_the_csrf_token_are_refused(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(client, env_a, cases=[{"input_message": "keep me"}])
    (case,) = await api_cases(client, env_a, suite_id)
    await sign_in(client, env_a.key)
    base = f"/suites/{suite_id}"
    attempts = [
        client.post(f"{base}/cases", data={"input_message": "sneaky"}),
        client.post(f"{base}/cases", data={"input_message": "sneaky", "csrf_token": "forged"}),
        client.post(f"{base}/cases/{case['id']}", data={"input_message": "changed"}),
        client.post(f"{base}/cases/{case['id']}/delete"),
        client.post(f"{base}/import", files={"file": ("a.jsonl", b'{"input": "x"}\n', "application/json")}),
        client.post(f"{base}/run", data={"repetitions": "1"}),
    ]
    for answer in await asyncio.gather(*attempts):
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert [c["input_message"] for c in await api_cases(client, env_a, suite_id)] == ["keep me"]
    assert (await client.get(f"/v1/evaluations/{suite_id}/runs", headers=env_a.headers)).json() == []


async def test_import_csv_and_jsonl(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(client, env_a)
    token = await sign_in(client, env_a.key)
    csv_file = (
        "input,name,expected_behavior,expected_tool_calls,tags,sort_order\n"
        'Where is A1?,lookup,Gives the status,"[{""name"": ""lookup"", ""arguments"": {""id"": ""A1""}}]",'
        '"orders, vip",5\n'
        '"Line one\nline two",,,,"[""x"", ""y""]",\n'
    )
    r = await client.post(
        f"/suites/{suite_id}/import",
        data={"csrf_token": token},
        files={"file": ("cases.csv", csv_file.encode(), "text/csv")},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/suites/{suite_id}?imported=2#cases"
    assert "Imported 2 test cases." in (await client.get(r.headers["location"])).text
    jsonl = (
        b'{"input_message": "From JSONL", "expected_behavior": "ok", "tags": ["j"]}\n'
        b"\n"
        b'{"input": "Second", "expected_tool_calls": [{"name": "t"}], "sort_order": -1}\n'
    )
    r = await client.post(
        f"/suites/{suite_id}/import",
        data={"csrf_token": token},
        files={"file": ("more.JSONL", jsonl, "application/octet-stream")},
    )
    assert r.status_code == 303
    cases = await api_cases(client, env_a, suite_id)
    assert [(c["input_message"], c["tags"], c["sort_order"]) for c in cases] == [
        ("Second", [], -1),
        ("Line one\nline two", ["x", "y"], 0),
        ("From JSONL", ["j"], 0),
        ("Where is A1?", ["orders", "vip"], 5),
    ]
    assert cases[3]["expected_behavior"] == "Gives the status"
    assert cases[3]["expected_tool_calls"] == [{"name": "lookup", "arguments": {"id": "A1"}}]
    assert cases[0]["expected_tool_calls"] == [{"name": "t"}]


@pytest.mark.parametrize(
    ("name", "content", "problems"),
    [
        (
            "bad.jsonl",
            b'{"input": "fine"}\n{"input": ""}\nnot json\n{"input": "x", "colour": "red"}\n[1]\n{"tags": []}\n',
            [
                "line 2: input_message: String should have at least 1 character",
                "line 3: invalid JSON",
                "line 4: unknown field: colour",
                "line 5: a case must be a JSON object",
                "line 6: input_message (or input) is required",
            ],
        ),
        (
            "bad.csv",
            b'input,expected_tool_calls,sort_order\nfine,,\n,,\nok,"[{oops",\nok,"{""a"": 1}",\nok,,x\nok,,1,extra\n',
            [
                "line 3: input_message (or input) is required",
                "line 4: expected_tool_calls: invalid JSON",
                "line 5: expected_tool_calls: Input should be a valid list",
                "line 6: sort_order: must be an integer",
                "line 7: more values than columns",
            ],
        ),
        ("cols.csv", b"question,answer\nhi,there\n", ["line 1: unknown columns: answer, question"]),
        ("empty.csv", b"", ["line 1: the file has no header row"]),
        ("blank.jsonl", b"\n\n", ["the file holds no cases"]),
        ("cases.txt", b"input\nhi\n", ["cases.txt: must end in .csv or .jsonl"]),
        ("latin1.csv", "input\ncafé\n".encode("latin-1"), ["the file is not UTF-8 text"]),
        ("nul.jsonl", b'{"input": "a\\u0000b"}\n', ["line 1: input_message: Null characters are not allowed."]),
    ],
)
async def test_a_bad_import_lists_each_bad_line_and_imports_nothing(
    client: httpx.AsyncClient, env_a: Env, name: str, content: bytes, problems: list[str]
) -> None:
    suite_id = await make_suite(client, env_a, cases=[{"input_message": "already here"}])
    token = await sign_in(client, env_a.key)
    r = await client.post(
        f"/suites/{suite_id}/import", data={"csrf_token": token}, files={"file": (name, content, "text/plain")}
    )
    assert r.status_code == 422
    assert "Nothing was imported" in r.text and '<details id="import" open>' in r.text
    listed = re.findall(r"<li>([^<]*)</li>", r.text.split('class="problems"', 1)[1].split("</ul>", 1)[0])
    assert len(listed) == len(problems)
    for shown, expected in zip(listed, problems, strict=True):
        assert shown.startswith(expected.replace('"', "&#34;")), (shown, expected)
    assert [c["input_message"] for c in await api_cases(client, env_a, suite_id)] == ["already here"]


async def test_import_without_a_file_is_a_clear_422(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(client, env_a)
    token = await sign_in(client, env_a.key)
    r = await client.post(f"/suites/{suite_id}/import", data={"csrf_token": token})
    assert r.status_code == 422 and "Choose a .csv or .jsonl file" in r.text


async def test_a_read_only_key_sees_no_write_controls_and_is_refused(
    app: Any, client: httpx.AsyncClient, env_a: Env
) -> None:
    suite_id = await make_suite(client, env_a, cases=[{"input_message": "stay"}])
    (case,) = await api_cases(client, env_a, suite_id)
    reader = await add_key(app, env_a, ["evaluation:read"])
    token = await sign_in(client, reader)
    html = (await client.get(f"/suites/{suite_id}")).text
    assert "stay" in html
    for control in ('/cases"', "/import", '/run"', "/delete", "Add a test case", "Edit</a>"):
        assert control not in html, control
    case_page = await client.get(f"/suites/{suite_id}/cases/{case['id']}")
    assert case_page.status_code == 200 and '<form method="post" action="/suites' not in case_page.text
    base = f"/suites/{suite_id}"
    for answer in [
        await client.post(f"{base}/cases", data={"csrf_token": token, "input_message": "no"}),
        await client.post(f"{base}/cases/{case['id']}", data={"csrf_token": token, "input_message": "no"}),
        await client.post(f"{base}/cases/{case['id']}/delete", data={"csrf_token": token}),
        await client.post(
            f"{base}/import", data={"csrf_token": token}, files={"file": ("a.jsonl", b'{"input": "x"}', "text/plain")}
        ),
        await client.post(f"{base}/run", data={"csrf_token": token}),
    ]:
        assert answer.status_code == 403 and "evaluation:write" in answer.text
    assert [c["input_message"] for c in await api_cases(client, env_a, suite_id)] == ["stay"]
    assert (await client.get(f"/v1/evaluations/{suite_id}/runs", headers=env_a.headers)).json() == []


async def test_another_environments_suite_is_404(client: httpx.AsyncClient, env_a: Env, env_b: Env) -> None:
    suite_id = await make_suite(client, env_b, cases=[{"input_message": "secret of b"}])
    (case,) = await api_cases(client, env_b, suite_id)
    token = await sign_in(client, env_a.key)
    base = f"/suites/{suite_id}"
    answers = [
        await client.get(base),
        await client.get(f"{base}/cases/{case['id']}"),
        await client.post(f"{base}/cases", data={"csrf_token": token, "input_message": "x"}),
        await client.post(f"{base}/cases", data={"csrf_token": token, "input_message": ""}),
        await client.post(f"{base}/cases/{case['id']}", data={"csrf_token": token, "input_message": "x"}),
        await client.post(f"{base}/cases/{case['id']}/delete", data={"csrf_token": token}),
        await client.post(
            f"{base}/import", data={"csrf_token": token}, files={"file": ("a.jsonl", b'{"input": "x"}', "text/plain")}
        ),
        await client.post(f"{base}/run", data={"csrf_token": token}),
        await client.get(f"/suites/{uuid.uuid4()}"),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert "Evaluation not found" in answer.text and "secret of b" not in answer.text
    assert [c["input_message"] for c in await api_cases(client, env_b, suite_id)] == ["secret of b"]
    # A case of another suite (even of the same environment) is not found under this one.
    own = await make_suite(client, env_a)
    assert (await client.get(f"/suites/{own}/cases/{case['id']}")).status_code == 404


async def test_html_in_a_case_is_shown_as_text(client: httpx.AsyncClient, env_a: Env) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    suite_id = await make_suite(
        client,
        env_a,
        name="<b>bold</b> suite",
        cases=[{"input_message": evil, "expected_behavior": evil, "tags": [evil]}],
    )
    (case,) = await api_cases(client, env_a, suite_id)
    await sign_in(client, env_a.key)
    for url in (f"/suites/{suite_id}", f"/suites/{suite_id}/cases/{case['id']}"):
        html = (await client.get(url)).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
        assert "&lt;b&gt;bold&lt;/b&gt; suite" in html


async def test_the_run_button_starts_a_run_with_its_settings(app: Any, client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(
        client,
        env_a,
        cases=[{"input_message": "one"}, {"input_message": "two"}],
        config={"repetitions": 2, "concurrency": 3},
    )
    async with make_sessionmaker(app.state.engine)() as session:
        key_row, new = await env_store.create_api_key(
            session=session,
            environment_id=uuid.UUID(env_a.id),
            scopes=["evaluation:read", "evaluation:write"],
            name="alice's laptop",
        )
        await session.commit()
    token = await sign_in(client, new.key)
    page = (await client.get(f"/suites/{suite_id}")).text
    assert 'name="repetitions" min="1" max="100" value="2"' in page
    assert 'name="concurrency" min="1" max="1000" value="3"' in page
    started = await client.post(
        f"/suites/{suite_id}/run", data={"csrf_token": token, "repetitions": "3", "concurrency": "5"}
    )
    assert started.status_code == 303
    run_id = started.headers["location"].removeprefix("/runs/")
    task = (await client.get(f"/v1/tasks/{run_id}", headers=env_a.headers)).json()
    assert task["status"] == "queued" and task["progress"]["total"] == 6
    assert task["summary"]["concurrency"]["requested"] == 5
    defaults = await client.post(f"/suites/{suite_id}/run", data={"csrf_token": token})
    assert defaults.status_code == 303
    second = (await client.get(f"/v1/tasks/{defaults.headers['location'][6:]}", headers=env_a.headers)).json()
    assert second["progress"]["total"] == 4 and second["summary"]["concurrency"]["requested"] == 3
    by_api = await client.post(f"/v1/evaluations/{suite_id}/run", headers=env_a.headers)
    async with make_sessionmaker(app.state.engine)() as session:
        ui_run = await run_store.get_run(session=session, environment_id=uuid.UUID(env_a.id), run_id=uuid.UUID(run_id))
        api_run = await run_store.get_run(
            session=session, environment_id=uuid.UUID(env_a.id), run_id=uuid.UUID(by_api.json()["task_id"])
        )
        assert ui_run.started_by == str(key_row.id) and api_run.started_by == env_a.key_id
    history = (await client.get(f"/suites/{suite_id}")).text.split('id="runs"', 1)[1]
    assert history.count("alice&#39;s laptop") == 2 and history.count(f"{env_a.key[:10]}…") == 1
    assert history.count("status-queued") == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"repetitions": "0"}, "repetitions must be a whole number from 1 to 100"),
        ({"repetitions": "many"}, "repetitions must be a whole number from 1 to 100"),
        ({"concurrency": "1001"}, "concurrency must be a whole number from 1 to 1000"),
    ],
)
async def test_bad_run_settings_are_shown_beside_the_button(
    client: httpx.AsyncClient, env_a: Env, form: dict[str, str], message: str
) -> None:
    suite_id = await make_suite(client, env_a, cases=[{"input_message": "one"}])
    token = await sign_in(client, env_a.key)
    answer = await client.post(f"/suites/{suite_id}/run", data={"csrf_token": token, **form})
    assert answer.status_code == 422 and message in answer.text
    assert (await client.get(f"/v1/evaluations/{suite_id}/runs", headers=env_a.headers)).json() == []


async def test_a_suite_that_cannot_run_says_why(client: httpx.AsyncClient, env_a: Env) -> None:
    suite_id = await make_suite(client, env_a)
    token = await sign_in(client, env_a.key)
    answer = await client.post(f"/suites/{suite_id}/run", data={"csrf_token": token})
    assert answer.status_code == 422 and "the evaluation has no test cases" in answer.text


async def test_run_history_numbers_keyset_pages_and_compare_picker(
    app: Any, client: httpx.AsyncClient, env_a: Env
) -> None:
    suite_id = await make_suite(client, env_a, cases=[{"input_message": "one"}])
    env_id, suite_uuid = uuid.UUID(env_a.id), uuid.UUID(suite_id)
    ids = []
    async with make_sessionmaker(app.state.engine)() as session:
        for i in range(30):
            row = await run_store.create_run(
                session=session,
                environment_id=env_id,
                suite_id=suite_uuid,
                snapshot=snapshot_of({"cases": [{"id": "c"}], "repetitions": 1}),
                started_by=env_a.key_id if i % 2 else None,
            )
            summary = {
                "pass_rate": 0.75,
                "mean_score": 81.25 + i,
                "latency_p50_ms": 420.0,
                "latency_p95_ms": 1830.0,
                "tokens_used": 12345,
                "judge_tokens": 99,
                "duration_s": 75.5,
            }
            await run_store.set_summary(session=session, row=row, summary=summary)
            row.status = "completed"
            ids.append(str(row.id))
            await session.commit()
    await sign_in(client, env_a.key)
    html = (await client.get(f"/suites/{suite_id}")).text
    history = html.split('id="runs"', 1)[1]
    shown = re.findall(r'<a href="/runs/([^"]+)" class="mono small">', history)
    newest_first = list(reversed(ids))
    assert shown == newest_first[:25]
    assert "75 %" in history and "110.2" in history and "420 ms" in history and "1.83 s" in history
    assert "12 345" in history and "1 min 15 s" in history
    assert history.count(f"<td>{env_a.key[:10]}…</td>") == 13 and history.count("before runs recorded") == 12
    assert f'name="head" value="{newest_first[0]}" aria-label="Compare to this run" checked' in history
    assert f'name="base" value="{newest_first[1]}" aria-label="Compare from this run" checked' in history
    assert f'action="/suites/{suite_id}/compare"' in history
    older = re.search(r'href="(\?runs_cursor=[^"]+)#runs" rel="next"', history)
    assert older is not None and older.group(1) == f"?runs_cursor={newest_first[24]}"
    page_two = (await client.get(f"/suites/{suite_id}{older.group(1)}")).text.split('id="runs"', 1)[1]
    assert re.findall(r'<a href="/runs/([^"]+)" class="mono small">', page_two) == newest_first[25:]
    assert 'rel="next"' not in page_two and "Newest runs" in page_two and " checked" not in page_two
    other = await client.get(f"/suites/{suite_id}", params={"runs_cursor": str(uuid.uuid4())})
    assert other.status_code == 422


async def test_a_run_started_from_the_page_reaches_the_dispatcher(settings: Settings, fake: Any) -> None:
    """With the background dispatcher running (as under `assay serve`), a run started here executes."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            env = await make_env(app, "runner")
            suite_id = await make_suite(
                client, env, base_url=fake.base_url, cases=[{"input_message": "hello"}, {"input_message": "again"}]
            )
            token = await sign_in(client, env.key)
            started = await client.post(f"/suites/{suite_id}/run", data={"csrf_token": token, "concurrency": "2"})
            assert started.status_code == 303
            run_id = started.headers["location"].removeprefix("/runs/")
            for _ in range(300):
                task = (await client.get(f"/v1/tasks/{run_id}", headers=env.headers)).json()
                if task["status"] in ("completed", "failed", "cancelled"):
                    break
                await asyncio.sleep(0.1)
            assert task["status"] == "completed" and task["progress"]["completed"] == 2, task
            history = (await client.get(f"/suites/{suite_id}")).text.split('id="runs"', 1)[1]
            assert "status-completed" in history
    await app.state.engine.dispose()
