"""The fake LLM server as a plain ASGI app (no framework, so it is never the bottleneck)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import Counter, deque
from typing import Any

import orjson

from assay.testing.fake_llm.agent_loop import turn_matches
from assay.testing.fake_llm.answer import Answer, decide, estimate_tokens, malform
from assay.testing.fake_llm.conversation import Conversation, anthropic_conversation, openai_conversation
from assay.testing.fake_llm.flavors import MAX_COMPLETION_TOKENS_ERROR, apply_flavor
from assay.testing.fake_llm.rate_limit import RequestRateLimit
from assay.testing.fake_llm.scenario import Faults, Rule, Scenario
from assay.testing.fake_llm.wire import (
    anthropic_error,
    anthropic_message,
    openai_completion,
    openai_error,
    openai_stream,
)

_JSON = [(b"content-type", b"application/json")]


class FakeLLMApp:
    """ASGI app answering `/v1/chat/completions`, `/v1/messages`, `/v1/models` and the `/_fake/*` control routes."""

    def __init__(self, scenario: Scenario | dict[str, Any] | None = None) -> None:
        self.set_scenario(scenario)
        self._seq = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=self.scenario.log_limit)
        self.status_counts: Counter[int] = Counter()
        self._generation = 0

    def set_scenario(self, scenario: Scenario | dict[str, Any] | None) -> None:
        """Replace the scenario; rule counters and the RNG start afresh."""
        if scenario is None:
            scenario = Scenario()
        elif isinstance(scenario, dict):
            scenario = Scenario.model_validate(scenario)
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.rule_hits: Counter[int] = Counter()
        self.rate_limit = (
            RequestRateLimit(scenario.rpm_limit, scenario.rpm_burst_s) if scenario.rpm_limit is not None else None
        )
        self.token_limit = (
            RequestRateLimit(scenario.tpm_limit, scenario.tpm_burst_s) if scenario.tpm_limit is not None else None
        )
        if hasattr(self, "log") and self.log.maxlen != scenario.log_limit:
            self.log = deque(self.log, maxlen=scenario.log_limit)

    def reset(self) -> None:
        """Clear the request log and counters, and reseed the RNG; requests still in flight are not logged."""
        self._generation += 1
        self.log.clear()
        self.status_counts.clear()
        self.max_in_flight = self.in_flight
        self.set_scenario(self.scenario)

    def stats(self) -> dict[str, Any]:
        """Counts by status plus in-flight figures."""
        return {
            "total": sum(self.status_counts.values()),
            "by_status": {str(k): v for k, v in sorted(self.status_counts.items())},
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method == "POST" and path.endswith("/chat/completions"):
            await self._llm(scope, receive, send, anthropic=False)
        elif method == "POST" and path.endswith("/messages"):
            await self._llm(scope, receive, send, anthropic=True)
        elif method == "GET" and path.endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.scenario.models]
            await _respond(send, 200, orjson.dumps({"object": "list", "data": data}))
        elif path.startswith("/_fake/"):
            await self._control(method, path, scope, receive, send)
        else:
            await _respond(send, 404, orjson.dumps({"error": {"message": f"No route {method} {path}"}}))

    async def _control(self, method: str, path: str, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if method == "GET" and path == "/_fake/requests":
            await _respond(send, 200, orjson.dumps(list(self.log)))
        elif method == "GET" and path == "/_fake/stats":
            await _respond(send, 200, orjson.dumps(self.stats()))
        elif method == "POST" and path == "/_fake/reset":
            self.reset()
            await _respond(send, 200, b'{"ok":true}')
        elif method in ("PUT", "POST") and path == "/_fake/scenario":
            try:
                self.set_scenario(orjson.loads(await _read_body(receive)))
            except Exception as exc:  # a bad scenario must answer 422, not crash the server
                await _respond(send, 422, orjson.dumps({"error": str(exc)}))
                return
            await _respond(send, 200, b'{"ok":true}')
        elif method == "GET" and path == "/_fake/scenario":
            await _respond(send, 200, self.scenario.model_dump_json(by_alias=True).encode())
        else:
            await _respond(send, 404, b'{"error":"unknown control route"}')

    def _match(self, conv: Conversation) -> Rule | None:
        for index, rule in enumerate(self.scenario.rules):
            if rule.matches(conv.last_user, conv.system, conv.model) and turn_matches(rule, conv):
                if rule.times is not None:
                    if self.rule_hits[index] >= rule.times:
                        continue
                    self.rule_hits[index] += 1
                return rule
        return None

    def _draw_fault(self, faults: Faults) -> str | None:
        if not faults.any():
            return None
        r = self.rng.random()
        for name, rate in (
            ("429", faults.rate_429),
            ("500", faults.rate_500),
            ("timeout", faults.rate_timeout),
            ("malformed", faults.rate_malformed),
        ):
            if r < rate:
                return name
            r -= rate
        return None

    async def _llm(self, scope: dict[str, Any], receive: Any, send: Any, *, anthropic: bool) -> None:
        self._seq += 1
        seq = self._seq
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        entry: dict[str, Any] = {"seq": seq, "ts": time.time(), "path": scope["path"], "status": 0}
        generation = self._generation
        try:
            status = await self._answer(scope, receive, send, anthropic, seq, entry)
        finally:
            self.in_flight -= 1
        if generation != self._generation:
            return  # began before a reset: it belongs to an earlier test, not to the fresh log
        entry["status"] = status
        self.status_counts[status] += 1
        self.log.append(entry)

    async def _answer(
        self, scope: dict[str, Any], receive: Any, send: Any, anthropic: bool, seq: int, entry: dict[str, Any]
    ) -> int:
        error_body = anthropic_error if anthropic else openai_error
        scenario = self.scenario
        try:
            body = orjson.loads(await _read_body(receive))
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            await _respond(send, 400, orjson.dumps(error_body(400, f"Invalid JSON body: {exc}")))
            return 400
        conv = anthropic_conversation(body) if anthropic else openai_conversation(body)
        entry.update(
            model=conv.model,
            hash=hashlib.sha256(orjson.dumps(conv.messages, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            last_user=conv.last_user,
            system=conv.system,
            messages=conv.messages,
            response_format=body.get("response_format"),
            tools=conv.tool_names,
            tool_choice=body.get("tool_choice"),
            temperature=body.get("temperature"),
            stream=conv.stream,
            max_tokens=conv.max_tokens,
            api_key=_api_key(scope),
        )
        if scenario.api_key is not None:
            key = _api_key(scope)
            if key != scenario.api_key:
                message = f"Incorrect API key provided: {key}." if key else "Missing API key."
                await _respond(
                    send, 401, orjson.dumps(error_body(401, message, None if anthropic else "invalid_api_key"))
                )
                return 401
        if scenario.strict_models and conv.model not in scenario.models:
            message = f"The model `{conv.model}` does not exist or you do not have access to it."
            await _respond(send, 404, orjson.dumps(error_body(404, message, None if anthropic else "model_not_found")))
            return 404
        if not anthropic and not scenario.json_schema_supported and conv.json_schema is not None:
            message = "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model."
            await _respond(send, 400, orjson.dumps(error_body(400, message)))
            return 400
        if not anthropic and scenario.max_completion_tokens_only and "max_tokens" in body:
            error = error_body(400, MAX_COMPLETION_TOKENS_ERROR, "unsupported_parameter")
            await _respond(send, 400, orjson.dumps(error))
            return 400
        conv.prompt_tokens = estimate_tokens(conv.messages, conv.system)
        if not anthropic:
            refusal = apply_flavor(
                scenario.flavor,
                body,
                conv,
                unsupported=scenario.grammar_unsupported_keywords,
                context_tokens=scenario.context_tokens,
            )
            if refusal is not None:
                await _respond(send, refusal[0], orjson.dumps(refusal[1]))
                return refusal[0]
        if self.rate_limit is not None and not self.rate_limit.admit():
            headers = [(b"retry-after", _seconds(round(self.rate_limit.retry_after(), 3)))]
            await _respond(send, 429, orjson.dumps(error_body(429, "Rate limit reached (fake RPM).")), headers)
            return 429
        if self.token_limit is not None and not self.token_limit.admit(conv.prompt_tokens):
            headers = [(b"retry-after", _seconds(round(self.token_limit.retry_after(conv.prompt_tokens), 3)))]
            await _respond(send, 429, orjson.dumps(error_body(429, "Rate limit reached (fake TPM).")), headers)
            return 429
        rule = self._match(conv)
        latency = rule.latency_ms if rule is not None and rule.latency_ms is not None else scenario.latency_ms
        if scenario.jitter_ms:
            latency += self.rng.uniform(0, scenario.jitter_ms)
        fault = self._draw_fault(rule.faults if rule is not None and rule.faults is not None else scenario.faults)
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        if rule is not None and rule.status is not None and rule.status >= 400:
            message = rule.error_message or f"Fake error {rule.status}."
            await _respond(send, rule.status, orjson.dumps(error_body(rule.status, message, rule.error_code)))
            return rule.status
        if fault == "429":
            faults = rule.faults if rule is not None and rule.faults is not None else scenario.faults
            headers = [(b"retry-after", _seconds(faults.retry_after_s))]
            await _respond(send, 429, orjson.dumps(error_body(429, "Rate limit reached (fake).")), headers)
            return 429
        if fault == "500":
            await _respond(send, 500, orjson.dumps(error_body(500, "The server had an error (fake).")))
            return 500
        if fault == "timeout":
            faults = rule.faults if rule is not None and rule.faults is not None else scenario.faults
            await asyncio.sleep(faults.timeout_s)
            await _respond(send, 504, orjson.dumps(error_body(504, "Gateway timeout (fake).")))
            return 504
        answer = decide(conv, rule, scenario)
        if self.token_limit is not None:
            self.token_limit.charge(answer.completion_tokens)
            entry["tokens"] = conv.prompt_tokens + answer.completion_tokens
        if scenario.ms_per_token:
            await asyncio.sleep(answer.completion_tokens * scenario.ms_per_token / 1000)
        truncate = False
        if fault == "malformed":
            faults = rule.faults if rule is not None and rule.faults is not None else scenario.faults
            truncate = not malform(answer, faults.malformed_mode)
        if conv.stream and not anthropic:
            await _stream(send, answer, conv, seq)
            return 200
        if anthropic:
            forced = conv.forced_tool.get("name") if conv.forced_tool else None
            payload = orjson.dumps(anthropic_message(answer, conv.model, seq, forced))
        else:
            payload = orjson.dumps(openai_completion(answer, conv.model, seq))
        if truncate:
            payload = payload[: len(payload) // 2]
        await _respond(send, 200, payload)
        return 200


def _seconds(value: float) -> bytes:
    return str(int(value) if float(value).is_integer() else value).encode()


def _api_key(scope: dict[str, Any]) -> str | None:
    key = None
    for name, value in scope["headers"]:
        if name == b"x-api-key":
            return value.decode("latin-1")
        if name == b"authorization":
            text = value.decode("latin-1")
            key = text[7:] if text.lower().startswith("bearer ") else text
    return key


async def _read_body(receive: Any) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while message.get("more_body"):
        message = await receive()
        chunks.append(message.get("body", b""))
    return b"".join(chunks)


async def _respond(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    head = [*_JSON, (b"content-length", str(len(body)).encode())]
    if headers:
        head.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _stream(send: Any, answer: Answer, conv: Conversation, seq: int) -> None:
    head = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    for chunk in openai_stream(answer, conv.model, seq, conv.include_usage):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
