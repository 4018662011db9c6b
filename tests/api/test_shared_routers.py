"""Applications built in one process share their routers' prepared routes, and each still serves its own data."""

from __future__ import annotations

import httpx

from assay.api.app import create_app
from assay.settings import Settings
from tests.conftest import make_env


async def test_two_applications_share_prepared_routes_and_keep_their_own_databases(
    app,  # noqa: ANN001
    database_url: str,
) -> None:
    other = create_app(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        ours = [r for r in app.router.routes if type(r).__name__ == "_IncludedRouter"]
        theirs = [r for r in other.router.routes if type(r).__name__ == "_IncludedRouter"]
        assert ours and [id(r) for r in ours] == [id(r) for r in theirs]  # the same prepared entries
        env = await make_env(app, "shared")
        for application, expected in ((app, 200), (other, 200)):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                answer = await client.get("/v1/instances", headers=env.headers)
                assert answer.status_code == expected, answer.text
                assert (await client.get("/v1/instances")).status_code == 401  # dependencies still apply
                assert (await client.get("/login")).status_code == 200
    finally:
        await other.state.engine.dispose()
