from __future__ import annotations

from collections.abc import Iterator

import pytest

from assay.testing.fake_llm import FakeLLMServer


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake(fake_server: FakeLLMServer) -> FakeLLMServer:
    fake_server.set_scenario(None)
    fake_server.reset()
    return fake_server
