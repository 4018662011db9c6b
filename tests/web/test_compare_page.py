"""The comparison page: the API's numbers, default runs, case filters and pages, the word diff, 404s, verdicts."""

from __future__ import annotations

import math
import re
from html import unescape
from typing import Any

import httpx
import pytest

from assay.domain.compare import NO_SIGNIFICANT_CHANGE, SIGNIFICANT_IMPROVEMENT, SIGNIFICANT_REGRESSION
from tests.analysis.helpers import make_two_runs, run_suite
from tests.conftest import Env, add_key, make_env
from tests.engine.conftest import create_instance, create_suite, engine_client, engine_settings, running_app, tenant
from tests.web.compare_data import result, store_runs
from tests.web.conftest import form_token, sign_in

__all__ = ["engine_client", "engine_settings", "running_app", "tenant"]

_FIGURE = re.compile(r"id=\"([a-z0-9-]+)\" data-value='([^']*)'")
_ROW = re.compile(r'data-case-id="([0-9a-f-]+)" data-kind="([a-z]+)"')


def figures(html: str) -> dict[str, Any]:
    """Every headline figure of the page, by element id, as the JSON value in its data-value."""
    import json

    return {name: json.loads(unescape(value)) for name, value in _FIGURE.findall(html)}


def case_rows(html: str) -> list[tuple[str, str]]:
    return _ROW.findall(html)


def verdict_of(html: str) -> str:
    found = re.search(r'id="verdict" data-verdict="([a-z ]+)"', html)
    assert found, "no verdict on the page"
    return found.group(1)


def selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select
    found = re.search(r'<option value="([0-9a-f-]+)" selected>', select.group(0))
    return found.group(1) if found else None


def expected_figures(api: dict[str, Any]) -> dict[str, Any]:
    unpaired = api["unpaired"]
    return {
        "mean-difference": api["score"]["mean_difference"],
        "mean-base": api["score"]["mean_base"],
        "mean-head": api["score"]["mean_head"],
        "ci-low": api["score"]["ci_low"],
        "ci-high": api["score"]["ci_high"],
        "wilcoxon-p": api["wilcoxon"]["p_value"],
        "sign-p": api["sign_test"]["p_value"],
        "pass-rate-change": api["pass_rate"]["change"],
        "pass-rate-base": api["pass_rate"]["base"],
        "pass-rate-head": api["pass_rate"]["head"],
        "count-improved": len(api["improved"]),
        "count-regressed": len(api["regressed"]),
        "count-unchanged": api["n_paired"] - len(api["improved"]) - len(api["regressed"]),
        "count-unpaired": len(unpaired["base_only"]) + len(unpaired["head_only"]) + len(unpaired["unscored"]),
    }


async def api_compare(client: httpx.AsyncClient, env: Env, suite_id: str, base: str, head: str) -> dict[str, Any]:
    answer = await client.get(
        f"/v1/evaluations/{suite_id}/compare", params={"base": base, "head": head}, headers=env.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_page_shows_the_apis_numbers_and_verdicts(engine_client, tenant, fake) -> None:  # noqa: ANN001
    runs = await make_two_runs(engine_client, tenant, fake)
    await sign_in(engine_client, tenant.key)
    url = f"/suites/{runs.suite_id}/compare"
    for base, head, expected_verdict in (
        (runs.base, runs.head, SIGNIFICANT_REGRESSION),
        (runs.head, runs.base, SIGNIFICANT_IMPROVEMENT),
        (runs.base, runs.base, NO_SIGNIFICANT_CHANGE),
    ):
        page = await engine_client.get(url, params={"base": base, "head": head})
        assert page.status_code == 200, page.text
        api = await api_compare(engine_client, tenant, runs.suite_id, base, head)
        shown = figures(page.text)
        assert {k: shown[k] for k in expected_figures(api)} == expected_figures(api)
        assert verdict_of(page.text) == expected_verdict
        assert shown["noise-mean-band"] is None  # one repetition per case: no noise band
    page = await engine_client.get(url, params={"base": runs.base, "head": runs.head})
    shown = figures(page.text)
    assert shown["mean-difference"] == pytest.approx(-75) and shown["count-regressed"] == 10
    assert (shown["count-improved"], shown["count-unchanged"], shown["count-unpaired"]) == (1, 1, 1)
    assert "Significant regression" in page.text
    rows = case_rows(page.text)
    kinds = [kind for _, kind in rows]
    assert kinds == ["regressed"] * 10 + ["improved", "unchanged", "unpaired"]
    assert rows[-1][0] == runs.case_ids["c12"] and rows[10][0] == runs.case_ids["c11"]
    assert "&lt;c0&gt; question" in page.text  # case inputs are escaped text


async def test_default_runs_are_the_previous_against_the_latest(engine_client, tenant, fake) -> None:  # noqa: ANN001
    runs = await make_two_runs(engine_client, tenant, fake)
    third = await run_suite(engine_client, tenant, runs.suite_id)
    await sign_in(engine_client, tenant.key)
    url = f"/suites/{runs.suite_id}/compare"
    page = await engine_client.get(url)
    assert page.status_code == 200
    assert (selected(page.text, "base"), selected(page.text, "head")) == (runs.head, third)
    api = await api_compare(engine_client, tenant, runs.suite_id, runs.head, third)
    shown = figures(page.text)
    assert {k: shown[k] for k in expected_figures(api)} == expected_figures(api)
    only_head = await engine_client.get(url, params={"head": runs.head})
    assert (selected(only_head.text, "base"), selected(only_head.text, "head")) == (runs.base, runs.head)
    only_base = await engine_client.get(url, params={"base": runs.base})
    assert (selected(only_base.text, "base"), selected(only_base.text, "head")) == (runs.base, third)

    instance_id = await create_instance(engine_client, tenant, fake)
    lonely = await create_suite(engine_client, tenant, instance_id=instance_id, cases=[{"input_message": "hi"}])
    assert "needs two runs" in (await engine_client.get(f"/suites/{lonely}/compare")).text
    await run_suite(engine_client, tenant, lonely)
    one = await engine_client.get(f"/suites/{lonely}/compare")
    assert one.status_code == 200 and "needs two runs" in one.text and 'id="verdict"' not in one.text


async def test_other_suites_and_environments_are_not_found(engine_client, running_app, tenant, fake) -> None:  # noqa: ANN001
    runs = await make_two_runs(engine_client, tenant, fake)
    instance_id = await create_instance(engine_client, tenant, fake)
    other_suite = await create_suite(engine_client, tenant, instance_id=instance_id, cases=[{"input_message": "hi"}])
    other_run = await run_suite(engine_client, tenant, other_suite)
    await sign_in(engine_client, tenant.key)
    url = f"/suites/{runs.suite_id}/compare"
    case = runs.case_ids["c0"]
    for params in ({"base": runs.base, "head": other_run}, {"base": other_run, "head": runs.head}):
        answer = await engine_client.get(url, params=params)
        assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
        assert (await engine_client.get(f"{url}/cases/{case}", params=params)).status_code == 404
    params = {"base": runs.base, "head": runs.head}
    assert (await engine_client.get(f"{url}/cases/{runs.base}", params=params)).status_code == 404
    unknown = await engine_client.get(f"/suites/{runs.base}/compare")
    assert unknown.status_code == 404
    bad = await engine_client.get(url, params={"base": "nope", "head": runs.head})
    assert bad.status_code == 422
    assert (await engine_client.get(url, params={"show": "everything"})).status_code == 422
    assert (await engine_client.get(url, params={"page": 0})).status_code == 422
    assert (await engine_client.get(f"{url}/cases/{case}", params={"base": runs.base})).status_code == 422

    other_env = await make_env(running_app, "elsewhere")
    transport = httpx.ASGITransport(app=running_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as stranger:
        await sign_in(stranger, other_env.key)
        params = {"base": runs.base, "head": runs.head}
        assert (await stranger.get(url, params=params)).status_code == 404
        assert (await stranger.get(url)).status_code == 404
        assert (await stranger.get(f"{url}/cases/{case}", params=params)).status_code == 404
        api = await stranger.get(f"/v1/evaluations/{runs.suite_id}/compare", params=params, headers=other_env.headers)
        assert api.status_code == 404


async def test_filters_and_pages_are_served_by_the_server(client: httpx.AsyncClient, app, env_a: Env) -> None:  # noqa: ANN001
    # 130 cases: 0-59 regress by their number + 1, 60-99 improve, 100-119 unchanged, 120-124 base only,
    # 125-129 head only.
    base = [result(i, 50.0) for i in range(125)]
    head = [result(i, 50.0 - (i + 1) * 0.5) for i in range(60)]
    head += [result(i, 90.0) for i in range(60, 100)]
    head += [result(i, 50.0) for i in range(100, 120)]
    head += [result(i, 80.0) for i in range(125, 130)]
    stored = await store_runs(app, env_a.id, [base, head], cases=130)
    await sign_in(client, env_a.key)
    url = f"/suites/{stored.suite_id}/compare"
    ids = stored.case_ids

    async def rows(**params: Any) -> list[tuple[str, str]]:
        page = await client.get(url, params=params)
        assert page.status_code == 200, page.text
        return case_rows(page.text)

    first = await rows()
    assert len(first) == 50 and all(kind == "regressed" for _, kind in first)
    assert [c for c, _ in first[:3]] == [ids[59], ids[58], ids[57]]  # the largest drop first
    second = await rows(page=2)
    assert [k for _, k in second] == ["regressed"] * 10 + ["improved"] * 40
    third = await rows(page=3)
    assert [k for _, k in third] == ["unchanged"] * 20 + ["unpaired"] * 10
    assert await rows(page=4) == []
    assert [c for c, _ in await rows(show="regressed", page=2)] == [ids[i] for i in range(9, -1, -1)]
    improved = await rows(show="improved")
    assert len(improved) == 40 and {k for _, k in improved} == {"improved"}
    unpaired = await rows(show="unpaired")
    assert [c for c, _ in unpaired] == sorted(ids[120:125]) + sorted(ids[125:130])
    assert len(await rows(show="unchanged")) == 20
    page = await client.get(url, params={"show": "improved"})
    assert 'rel="next"' not in page.text and 'aria-current="true">Improved' in page.text
    assert 'rel="next"' in (await client.get(url)).text


async def test_the_case_view_diffs_words_and_escapes_everything(client: httpx.AsyncClient, app, env_a: Env) -> None:  # noqa: ANN001
    hostile = "<script>alert('base')</script> The order ships on Monday."
    base = [result(0, 90.0, response=hostile, reason="Polite <b>and</b> correct.")]
    head = [
        result(
            0, 20.0, response="<script>alert('head')</script> The order ships on Friday.", reason="Wrong <i>day</i>."
        )
    ]
    stored = await store_runs(app, env_a.id, [base, head], cases=1)
    await sign_in(client, env_a.key)
    base_id, head_id = stored.run_ids
    listing = await client.get(f"/suites/{stored.suite_id}/compare")
    assert f"/compare/cases/{stored.case_ids[0]}?base={base_id}&amp;head={head_id}" in listing.text
    assert "Wrong &lt;i&gt;day&lt;/i&gt;." in listing.text
    page = await client.get(
        f"/suites/{stored.suite_id}/compare/cases/{stored.case_ids[0]}", params={"base": base_id, "head": head_id}
    )
    assert page.status_code == 200, page.text
    assert "<script>alert" not in page.text and "<b>and</b>" not in page.text and "<i>day" not in page.text
    assert "Polite &lt;b&gt;and&lt;/b&gt; correct." in page.text and "Wrong &lt;i&gt;day&lt;/i&gt;." in page.text
    assert '<del class="diff-del">&lt;script&gt;alert(&#x27;base&#x27;)&lt;/script&gt;</del>' in page.text
    assert '<ins class="diff-add">&lt;script&gt;alert(&#x27;head&#x27;)&lt;/script&gt;</ins>' in page.text
    assert '<del class="diff-del">Monday.</del>' in page.text and '<ins class="diff-add">Friday.</ins>' in page.text
    assert " The order ships on " in page.text  # unchanged words are not marked
    assert "question 0" in page.text


async def test_repetitions_give_a_noise_band(client: httpx.AsyncClient, app, env_a: Env) -> None:  # noqa: ANN001
    # Two repetitions per case, 40 and 60 in base (variance 200), 45 and 65 in head (variance 200).
    cases = 8
    base = [result(i, s, rep=r) for i in range(cases) for r, s in enumerate((40.0, 60.0))]
    head = [result(i, s, rep=r) for i in range(cases) for r, s in enumerate((45.0, 65.0))]
    stored = await store_runs(app, env_a.id, [base, head], cases=cases)
    await sign_in(client, env_a.key)
    page = await client.get(f"/suites/{stored.suite_id}/compare")
    shown = figures(page.text)
    case_band = 1.959964 * math.sqrt(200 / 2 + 200 / 2)
    assert shown["noise-case-band"] == pytest.approx(case_band, abs=1e-4)
    assert shown["noise-mean-band"] == pytest.approx(case_band / math.sqrt(cases), abs=1e-4)
    assert shown["mean-difference"] == 5 and shown["count-improved"] == cases


async def test_read_scope_decides(client: httpx.AsyncClient, app, env_a: Env) -> None:  # noqa: ANN001
    stored = await store_runs(app, env_a.id, [[result(0, 90.0)], [result(0, 20.0)]], cases=1)
    read_only = await add_key(app, env_a, ["evaluation:read"])
    await sign_in(client, read_only)
    page = await client.get(f"/suites/{stored.suite_id}/compare")
    assert page.status_code == 200 and verdict_of(page.text) == NO_SIGNIFICANT_CHANGE
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        form = await other.get("/login")
        key = await add_key(app, env_a, ["dataset:read"])
        signed = await other.post("/login", data={"api_key": key, "csrf_token": form_token(form.text)})
        assert signed.status_code == 303
        assert (await other.get(f"/suites/{stored.suite_id}/compare")).status_code == 403
