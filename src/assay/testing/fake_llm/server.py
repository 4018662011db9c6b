"""Run the fake LLM server: in a separate process (`FakeLLMServer`) or in a thread (`ThreadedFakeLLMServer`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from assay.testing.fake_llm.app import FakeLLMApp
from assay.testing.fake_llm.scenario import Scenario

ScenarioLike = Scenario | dict[str, Any] | None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _scenario_json(scenario: ScenarioLike) -> str:
    if scenario is None:
        return "{}"
    if isinstance(scenario, Scenario):
        return scenario.model_dump_json(by_alias=True, exclude_unset=True)
    return json.dumps(scenario)


class _Controlled:
    """Control-endpoint helpers shared by both runners."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """Root URL, e.g. `http://127.0.0.1:8123`."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """OpenAI/Anthropic SDK base URL, ending in `/v1`."""
        return f"{self.url}/v1"

    _http: httpx.Client | None = None

    def _control(self, method: str, path: str, body: str | None = None) -> Any:
        if self._http is None:
            self._http = httpx.Client(timeout=10.0)
        response = self._http.request(method, f"{self.url}{path}", content=body)
        response.raise_for_status()
        return response.json()

    def requests(self) -> list[dict[str, Any]]:
        """The request log (oldest first)."""
        result: list[dict[str, Any]] = self._control("GET", "/_fake/requests")
        return result

    def stats(self) -> dict[str, Any]:
        """Counts by status, in-flight and max in-flight."""
        result: dict[str, Any] = self._control("GET", "/_fake/stats")
        return result

    def set_scenario(self, scenario: ScenarioLike) -> None:
        """Replace the scenario at runtime."""
        self._control("PUT", "/_fake/scenario", _scenario_json(scenario))

    def reset(self) -> None:
        """Clear the log and counters."""
        self._control("POST", "/_fake/reset")

    def _wait_ready(self, timeout: float, alive: Any) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive():
                raise RuntimeError("fake LLM server exited during start-up")
            try:
                if httpx.get(f"{self.url}/_fake/stats", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise TimeoutError(f"fake LLM server not ready on {self.url} after {timeout}s")


class FakeLLMServer(_Controlled):
    """The fake server in its own process (no shared GIL with the code under test).

    Example:
        with FakeLLMServer(scenario={"latency_ms": 50}) as fake:
            client = AsyncOpenAI(base_url=fake.base_url, api_key="k")
    """

    def __init__(
        self, scenario: ScenarioLike = None, *, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = 20.0
    ) -> None:
        self.host = host
        self.port = port
        self._scenario = scenario
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._scenario_file: str | None = None

    def start(self) -> Self:
        """Start the process and wait until it answers."""
        fd, self._scenario_file = tempfile.mkstemp(prefix="fake-llm-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            handle.write(_scenario_json(self._scenario))
        src = str(Path(__file__).resolve().parents[3])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
        last_error: Exception | None = None
        for _ in range(3):
            port = self.port or free_port(self.host)
            cmd = [sys.executable, "-m", "assay.testing.fake_llm", "--host", self.host, "--port", str(port)]
            cmd += ["--scenario", self._scenario_file, "--log-level", "warning"]
            self._process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.port = port
            try:
                self._wait_ready(
                    self._startup_timeout, lambda: self._process is not None and self._process.poll() is None
                )
                return self
            except (RuntimeError, TimeoutError) as exc:
                last_error = exc
                self._kill()
        raise RuntimeError(f"could not start the fake LLM server: {last_error}")

    def _kill(self) -> str:
        process, self._process = self._process, None
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(1.5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
        return stderr

    def stop(self) -> None:
        """Stop the process and remove the scenario file."""
        if self._http is not None:
            self._http.close()
            self._http = None
        self._kill()
        if self._scenario_file:
            Path(self._scenario_file).unlink(missing_ok=True)
            self._scenario_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ThreadedFakeLLMServer(_Controlled):
    """The fake server on a uvicorn loop in a background thread of this process (quick tests only)."""

    def __init__(self, scenario: ScenarioLike = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port(host)
        self.app = FakeLLMApp(scenario)
        config = uvicorn.Config(
            self.app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-llm", daemon=True)

    def start(self) -> Self:
        """Start the thread and wait until the server answers."""
        self._thread.start()
        self._wait_ready(15.0, self._thread.is_alive)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and join the thread."""
        if self._http is not None:
            self._http.close()
            self._http = None
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
