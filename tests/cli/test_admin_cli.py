"""`assay env`, `assay keys` and `assay db` through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assay.api.app import create_app
from assay.settings import Settings

# Subprocesses and long property runs: on a loaded 2-core machine these take minutes, not seconds.
pytestmark = pytest.mark.timeout(360)


def run_cli(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "assay.cli", *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_env_and_key_lifecycle(tmp_path):
    env = json.loads(run_cli(tmp_path, "env", "create", "staging", "--json").stdout)
    assert set(env) >= {"id", "name"} and env["name"] == "staging"
    dup = run_cli(tmp_path, "env", "create", "staging", check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr

    key = json.loads(run_cli(tmp_path, "keys", "create", "--environment", "staging", "--json").stdout)
    assert key["environment_id"] == env["id"] and key["key"].startswith("asy_")
    assert key["scopes"] == [
        "dataset:read",
        "dataset:write",
        "evaluation:read",
        "evaluation:write",
        "event:read",
        "event:write",
    ]
    limited = json.loads(
        run_cli(tmp_path, "keys", "create", "-e", env["id"], "--scopes", "dataset:read", "--json").stdout
    )
    assert limited["scopes"] == ["dataset:read"]
    bad = run_cli(tmp_path, "keys", "create", "-e", "staging", "--scopes", "dataset:delete", check=False)
    assert bad.returncode == 2 and "unknown scope" in bad.stderr
    missing = run_cli(tmp_path, "keys", "create", "-e", "nope", check=False)
    assert missing.returncode == 1 and "no environment" in missing.stderr

    listed = json.loads(run_cli(tmp_path, "keys", "list", "--json").stdout)
    assert {k["id"] for k in listed} == {key["id"], limited["id"]}
    assert all(key["key"] not in json.dumps(k) for k in listed)  # the key itself is never listed

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", _env_file=None)  # type: ignore[call-arg]

    async def status(api_key: str) -> int:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            r = await http.get(f"/api/environments/{env['id']}/datasets", headers={"X-Api-Key": api_key})
            return r.status_code

    import asyncio

    assert asyncio.run(status(key["key"])) == 200
    run_cli(tmp_path, "keys", "revoke", key["id"])
    assert asyncio.run(status(key["key"])) == 401
    assert asyncio.run(status(limited["key"])) == 200
    assert json.loads(run_cli(tmp_path, "keys", "list", "--json").stdout)[0]["revoked"] is True


def test_env_rotate_token(tmp_path):
    env = json.loads(run_cli(tmp_path, "env", "create", "staging", "--json").stdout)
    old = env["project_token"]
    rotated = json.loads(run_cli(tmp_path, "env", "rotate-token", "staging", "--json").stdout)
    assert rotated["id"] == env["id"] and rotated["name"] == "staging"
    middle = rotated["project_token"]
    assert middle.startswith("phc_") and middle != old
    shown = run_cli(tmp_path, "env", "rotate-token", env["id"]).stdout  # by id, human output
    new = next(word for word in shown.split() if word.startswith("phc_"))
    assert new not in (old, middle) and "old token no longer works" in shown
    listed = json.loads(run_cli(tmp_path, "env", "list", "--json").stdout)
    assert [e["project_token"] for e in listed] == [new]  # `env list` shows the current token
    missing = run_cli(tmp_path, "env", "rotate-token", "nope", check=False)
    assert missing.returncode == 1 and "no environment" in missing.stderr

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", _env_file=None)  # type: ignore[call-arg]

    async def capture(token: str) -> int:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            event = {"event": "$ai_generation", "distinct_id": "u", "properties": {"$ai_trace_id": "t"}}
            r = await http.post("/batch/", json={"api_key": token, "batch": [event]})
            return r.status_code

    import asyncio

    assert [asyncio.run(capture(t)) for t in (old, middle, new)] == [401, 401, 200]


def test_db_upgrade_is_idempotent(tmp_path):
    assert "revision" in run_cli(tmp_path, "db", "upgrade").stdout
    assert "revision" in run_cli(tmp_path, "db", "upgrade").stdout


@pytest.mark.parametrize("args", [["--help"], ["env", "--help"], ["keys", "--help"]])
def test_help(tmp_path, args):
    assert "Usage" in run_cli(tmp_path, *args).stdout
