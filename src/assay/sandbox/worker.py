"""The request loop of one sandboxed worker process (started by `launcher.py`, never imported by the server).

It preloads the allowed modules, locks itself down, reports its layers in a first frame, then answers
frames of calls: `{"calls": [{"id", "fn", "src"?, "kwargs", "scale", "threshold"}]}` with frames holding
lists of results, in call order. Functions are compiled once per worker and kept by the key the parent gives them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import orjson

from assay.sandbox import import_guard, lockdown
from assay.sandbox.coerce import BadReturnValue, coerce_result
from assay.sandbox.framing import MAX_REQUEST_BYTES, encode, split_frames

MAX_LOG_CHARS = 4096
FLUSH_SECONDS = 0.002
"""Results of fast calls are sent together; a slower call first sends what is done, so a call that hangs
holds back at most this much work (which the parent runs again on the replacement worker)."""
_CO_VARKEYWORDS = 0x08


class _Logs:
    """What `print` wrote during the current call (capped)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def reset(self) -> None:
        self.parts = []
        self.size = 0

    def print(self, *args: Any, sep: str | None = " ", end: str | None = "\n", **_: Any) -> None:
        if self.size >= MAX_LOG_CHARS:
            return
        text = (" " if sep is None else str(sep)).join(str(a) for a in args) + ("\n" if end is None else str(end))
        text = text[: MAX_LOG_CHARS - self.size]
        self.parts.append(text)
        self.size += len(text)

    def text(self) -> str:
        return "".join(self.parts).rstrip("\n")


class _Defined:
    def __init__(self, function: Callable[..., Any] | None, error: str | None, names: frozenset[str] | None) -> None:
        self.function = function
        self.error = error
        self.names = names  # None: takes **kwargs


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = ""
    name = type(exc).__name__
    return f"{name}: {text}"[:2000] if text else name


def _define(source: str, logs: _Logs) -> _Defined:
    namespace: dict[str, Any] = {"__builtins__": import_guard.evaluator_builtins(logs.print), "__name__": "evaluator"}
    try:
        exec(compile(source, "<evaluator>", "exec"), namespace)
    except BaseException as exc:
        return _Defined(None, f"the evaluator failed to load: {_describe(exc)}", None)
    function = namespace.get("evaluate")
    if not callable(function):
        return _Defined(None, "the evaluator defines no function evaluate(input, output, **kwargs)", None)
    code = getattr(function, "__code__", None)
    if code is None or code.co_flags & _CO_VARKEYWORDS:
        return _Defined(function, None, None)
    names = frozenset(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    return _Defined(function, None, names)


def _run(defined: _Defined, call: dict[str, Any], logs: _Logs, memory_mib: int) -> dict[str, Any]:
    if defined.function is None:
        return {"ok": False, "kind": "load_error", "error": defined.error}
    kwargs = call.get("kwargs") or {}
    if defined.names is not None:
        kwargs = {k: v for k, v in kwargs.items() if k in defined.names}
    try:
        value = defined.function(**kwargs)
        verdict = coerce_result(value, scale=call.get("scale", 1), threshold=call.get("threshold", 0.5))
    except BadReturnValue as exc:
        return {"ok": False, "kind": "bad_return", "error": f"invalid return value: {exc}"}
    except MemoryError:
        return {"ok": False, "kind": "memory", "error": f"MemoryError: the evaluator used more than {memory_mib} MiB"}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the worker outlives its evaluators
        return {"ok": False, "kind": "exception", "error": _describe(exc)}
    return {"ok": True, **verdict}


def _encodable(result: dict[str, Any]) -> dict[str, Any]:
    try:
        encode(result)
    except (TypeError, orjson.JSONEncodeError):
        error = "the result cannot be sent (text with lone surrogates?)"
        return {"id": result["id"], "ok": False, "kind": "bad_return", "error": error, "logs": "", "us": 0}
    return result


def serve(config: dict[str, Any]) -> None:
    """Lock down, report, then answer calls until stdin closes."""
    read, write, exit_now = os.read, os.write, os._exit
    limits = lockdown.Limits(memory_bytes=int(config["memory_bytes"]), cpu_seconds=int(config["cpu_seconds"]))
    import_guard.preload()
    report = lockdown.lock_down(limits, frozenset(config.get("skip") or ()))
    missing = [name for name in config.get("required") or () if not report.get(name, "").startswith("ok")]

    def send(message: Any) -> None:
        try:
            data = encode(message)
        except (TypeError, orjson.JSONEncodeError):
            if not isinstance(message, list):
                raise
            data = encode([_encodable(result) for result in message])
        view = memoryview(data)
        while view:
            view = view[write(1, view) :]

    send({"ready": not missing, "layers": report, "pid": os.getpid()})
    if missing:
        exit_now(3)
    import_guard.seal()
    memory_mib = limits.memory_bytes >> 20
    logs = _Logs()
    functions: dict[str, _Defined] = {}
    buffer = bytearray()
    clock = time.perf_counter
    cpu = time.process_time
    while True:
        chunk = read(0, 1 << 20)
        if not chunk:
            exit_now(0)
        buffer += chunk
        for body in split_frames(buffer, MAX_REQUEST_BYTES):
            done: list[dict[str, Any]] = []
            flushed = clock()
            for call in orjson.loads(body)["calls"]:
                if done and clock() - flushed > FLUSH_SECONDS:
                    send(done)
                    done, flushed = [], clock()
                logs.reset()
                started = clock()
                if "src" in call:
                    functions[call["fn"]] = _define(call["src"], logs)
                defined = functions.get(call["fn"])
                if defined is None:
                    result = {"ok": False, "kind": "protocol", "error": "unknown evaluator key"}
                else:
                    result = _run(defined, call, logs, memory_mib)
                result["id"] = call["id"]
                result["logs"] = logs.text()
                result["us"] = int((clock() - started) * 1e6)
                done.append(result)
            done[-1]["cpu"] = round(cpu(), 3)
            send(done)
