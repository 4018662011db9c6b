"""The parent's side of one worker: spawn it through the launcher, check its lockdown report, send calls,
read results within a wall-clock limit per call, and kill it on any misbehaviour."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from assay.sandbox.coerce import MAX_REASON_CHARS
from assay.sandbox.framing import MAX_RESPONSE_BYTES, FrameTooLarge, encode, split_frames
from assay.sandbox.worker import FLUSH_SECONDS, MAX_LOG_CHARS

SANDBOX_DIR = Path(__file__).resolve().parent
START_TIMEOUT_SECONDS = 10.0


class SandboxUnavailable(RuntimeError):
    """A worker could not start with every required layer; the message names the missing ones."""

    def __init__(self, message: str, layers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.layers = layers or {}


class WorkerFailure(Exception):
    """The worker stopped answering properly; it has been killed. `kind`: timeout, crashed or protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """How workers are started."""

    memory_bytes: int = 512 << 20
    cpu_seconds: int = 300
    required: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    """Layers not applied (to see the refusal of a missing required layer, or to measure one layer's cost)."""


@dataclass(slots=True)
class CallResult:
    """One call's result as the parent validated it. `kind` is None on success, else why it failed:
    exception, bad_return, load_error, memory, timeout, crashed, protocol, bad_input or unavailable."""

    ok: bool
    passed: bool | None = None
    score: float | None = None
    applicable: bool = True
    reason: str = ""
    logs: str = ""
    error: str | None = None
    kind: str | None = None
    worker_us: int = 0


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _text(value: Any, limit: int) -> str:
    if type(value) is not str:
        return ""
    return value if len(value) <= limit else value[:limit]


_FAILURE_KINDS = frozenset({"exception", "bad_return", "load_error", "memory", "protocol"})


def parse_result(message: Any) -> CallResult:
    """A worker's result frame, checked field by field (raises ValueError when it is malformed).

    Exact type checks (`type(x) is bool`): JSON gives no subclasses, and this runs for every call.
    """
    if type(message) is not dict:
        raise ValueError("a result must be an object")
    ok = message.get("ok")
    logs = _text(message.get("logs"), MAX_LOG_CHARS)
    us = message.get("us")
    worker_us = us if type(us) is int else 0
    if ok is False:
        kind = message.get("kind")
        return CallResult(
            ok=False,
            error=_text(message.get("error"), MAX_REASON_CHARS) or "the evaluator failed",
            kind=kind if kind in _FAILURE_KINDS else "exception",
            logs=logs,
            worker_us=worker_us,
        )
    if ok is not True:
        raise ValueError("a result needs a boolean ok")
    passed, score, applicable = message.get("passed"), message.get("score"), message.get("applicable")
    if passed is not None and type(passed) is not bool:
        raise ValueError("passed must be a boolean or null")
    if score is not None:
        kind_of_score = type(score)
        if (kind_of_score is not float and kind_of_score is not int) or not 0 <= score <= 1:  # NaN fails too
            raise ValueError("score must be null or a number in [0, 1]")
        score = float(score)
    if type(applicable) is not bool:
        raise ValueError("applicable must be a boolean")
    reason = _text(message.get("reason"), MAX_REASON_CHARS)
    return CallResult(
        ok=True, passed=passed, score=score, applicable=applicable, reason=reason, logs=logs, worker_us=worker_us
    )


class WorkerProcess:
    """One live worker. Not thread-safe: one caller at a time (the pool gives each worker one thread)."""

    def __init__(self, config: WorkerConfig) -> None:
        import orjson as _orjson  # the worker needs orjson's directory on its path

        site_dir = str(Path(_orjson.__file__).resolve().parent.parent)
        worker_config = {
            "memory_bytes": config.memory_bytes,
            "cpu_seconds": config.cpu_seconds,
            "required": list(config.required),
            "skip": list(config.skip),
        }
        argv = [
            sys.executable,
            "-I",
            "-B",
            "-S",
            str(SANDBOX_DIR / "launcher.py"),
            str(SANDBOX_DIR.parent),
            site_dir,
            json.dumps(worker_config),
        ]
        started = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
            start_new_session=True,
            bufsize=0,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        self._buffer = bytearray()
        self._frames: list[bytes] = []
        self.known: set[str] = set()
        self.calls = 0
        self.cpu_seconds = 0.0
        self.limits = config
        try:
            ready = orjson.loads(self._read_frame(START_TIMEOUT_SECONDS))
        except WorkerFailure as failure:
            raise SandboxUnavailable(f"the sandbox worker did not start: {failure.message}") from None
        if not isinstance(ready, dict) or not isinstance(ready.get("layers"), dict):
            self.kill()
            raise SandboxUnavailable("the sandbox worker sent no lockdown report")
        self.layers: dict[str, str] = {str(k): str(v) for k, v in ready["layers"].items()}
        self.pid = self.proc.pid
        self.start_ms = (time.monotonic() - started) * 1000
        missing = [name for name in config.required if not self.layers.get(name, "").startswith("ok")]
        if missing or not ready.get("ready"):
            self.kill()
            detail = "; ".join(f"{name}: {self.layers.get(name, 'not reported')}" for name in missing)
            raise SandboxUnavailable(f"required sandbox layer unavailable: {detail}", self.layers)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and reap it."""
        if self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def _fail(self, kind: str, message: str) -> WorkerFailure:
        self.kill()
        return WorkerFailure(kind, message)

    def _read_frame(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while not self._frames:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail("timeout", f"no answer within {timeout:.1f} s: the worker was killed")
            ready, _, _ = select.select([self._out], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                code = self.proc.wait()
                how = _signal_name(code) if code < 0 else f"exit status {code}"
                self.kill()
                raise WorkerFailure("crashed", f"the worker died ({how})")
            self._buffer += chunk
            try:
                self._frames = split_frames(self._buffer, MAX_RESPONSE_BYTES)
            except FrameTooLarge:
                raise self._fail("protocol", "the worker's answer is too large: the worker was killed") from None
            if len(self._buffer) > MAX_RESPONSE_BYTES + 4:
                raise self._fail("protocol", "the worker's answer is too large: the worker was killed")
        return self._frames.pop(0)

    def _write(self, data: bytes, timeout: float) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail("timeout", "the worker stopped reading its requests: the worker was killed")
            _, writable, _ = select.select([], [self._in], [], left)
            if writable:
                try:
                    view = view[os.write(self._in, view[: 1 << 16]) :]
                except BrokenPipeError:
                    code = self.proc.wait()
                    self.kill()
                    raise WorkerFailure("crashed", f"the worker died ({_signal_name(code)})") from None

    def run(self, calls: list[dict[str, Any]]) -> list[CallResult | None]:
        """Send `calls` (each with `id`, `fn`, `source`, `kwargs`, `scale`, `threshold`, `timeout`) as one frame.

        Each call gets its `timeout` in seconds, counted from the previous answer. On a failure the worker is
        killed; when one call was unanswered it gets the failure, else every unanswered call comes back as None.
        """
        wire = []
        sending: set[str] = set()
        for call in calls:
            item = {"id": call["id"], "fn": call["fn"], "kwargs": call["kwargs"]}
            if call["scale"] != 1 or call["threshold"] != 0.5:
                item["scale"], item["threshold"] = call["scale"], call["threshold"]
            if call["fn"] not in self.known and call["fn"] not in sending:
                item["src"] = call["source"]
                sending.add(call["fn"])
            wire.append(item)
        try:
            frame = encode({"calls": wire})
        except TypeError as exc:  # arguments JSON cannot carry (an integer beyond 64 bits, a non-string key)
            if len(calls) == 1:
                return [CallResult(ok=False, kind="bad_input", error=f"the arguments cannot be sent: {exc}")]
            return self._one_by_one(calls)
        self.known |= sending
        results: list[CallResult | None] = [None] * len(calls)
        index = 0
        try:
            self._write(frame, max(call["timeout"] for call in calls))
            while index < len(calls):
                body = self._read_frame(calls[index]["timeout"] + FLUSH_SECONDS)
                try:
                    messages = orjson.loads(body)
                    if not isinstance(messages, list) or not messages:
                        raise ValueError("an answer must be a list of results")
                    for message in messages:
                        if index >= len(calls):
                            raise ValueError("more answers than calls")
                        if not isinstance(message, dict) or message.get("id") != calls[index]["id"]:
                            raise ValueError("answer to another call")
                        results[index] = parse_result(message)
                        index += 1
                        cpu = message.get("cpu")
                        if isinstance(cpu, int | float):
                            self.cpu_seconds = float(cpu)
                except ValueError as exc:
                    raise self._fail("protocol", f"the worker broke the protocol ({exc}): it was killed") from None
        except WorkerFailure as failure:
            # Results of fast calls travel together, so with several calls unanswered the culprit is unknown:
            # they all come back as None, and the pool runs each alone on the replacement.
            if index == len(calls) - 1:
                results[index] = CallResult(ok=False, error=failure.message, kind=failure.kind)
        self.calls += index
        return results

    def _one_by_one(self, calls: list[dict[str, Any]]) -> list[CallResult | None]:
        results: list[CallResult | None] = []
        for call in calls:
            results.extend(self.run([call]) if self.alive else [None])
        return results
