"""Anthropic Messages API adapter; converts the OpenAI-shaped request and answers in the same `ChatResult`."""

from __future__ import annotations

import time
from typing import Any

import orjson

from assay.domain.outcomes import ToolCall
from assay.providers.base import ProviderAdapter
from assay.providers.datatypes import ChatRequest, ChatResult, EndpointConfig
from assay.providers.errors import (
    ParseError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    QuotaExceededError,
    ServerError,
    scrub,
    status_error,
)
from assay.providers.structured import decode_json

DEFAULT_MAX_TOKENS = 1024


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def to_anthropic_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """OpenAI-style messages to (system prompt, Anthropic messages); tool results become tool_result blocks."""
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer"):
            system.append(_text(msg.get("content")))
            continue
        if role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": msg.get("tool_call_id", ""),
                "content": _text(msg.get("content")),
            }
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        if role == "assistant" and msg.get("tool_calls"):
            blocks: list[dict[str, Any]] = []
            if msg.get("content"):
                blocks.append({"type": "text", "text": _text(msg["content"])})
            for call in msg["tool_calls"]:
                function = call.get("function", {})
                arguments = function.get("arguments") or "{}"
                tool_input = orjson.loads(arguments) if isinstance(arguments, str) else arguments
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id", ""),
                        "name": function.get("name", ""),
                        "input": tool_input,
                    }
                )
            out.append({"role": "assistant", "content": blocks})
            continue
        out.append({"role": "assistant" if role == "assistant" else "user", "content": msg.get("content") or ""})
    return "\n\n".join(s for s in system if s), out


def to_anthropic_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI function tools to Anthropic tools."""
    result = []
    for tool in tools:
        function = tool.get("function", tool)
        entry = {
            "name": function["name"],
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        result.append(entry)
    return result


def to_anthropic_tool_choice(choice: str | dict[str, Any]) -> dict[str, Any]:
    """OpenAI `tool_choice` to Anthropic's."""
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return {"type": "tool", "name": name}
    return {"type": {"required": "any", "none": "none"}.get(choice, "auto")}


class AnthropicAdapter(ProviderAdapter):
    """Adapter over `anthropic.AsyncAnthropic`; structured output goes through a forced tool call."""

    name = "anthropic"

    def __init__(self, endpoint: EndpointConfig) -> None:
        super().__init__(endpoint)
        try:
            import anthropic
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "The anthropic provider needs the `anthropic` package: pip install 'assay[server]'"
            ) from exc
        self._anthropic = anthropic
        headers = dict(endpoint.default_headers or {})
        if endpoint.api_key:
            headers.setdefault("x-api-key", endpoint.api_key)
        base_url = endpoint.base_url
        if base_url and base_url.rstrip("/").endswith("/v1"):
            base_url = base_url.rstrip("/")[:-3]
        self.client = anthropic.AsyncAnthropic(
            api_key=endpoint.api_key or "not-needed",
            base_url=base_url,
            max_retries=0,
            default_headers=headers,
            default_query=endpoint.default_query,
            http_client=anthropic.DefaultAsyncHttpxClient(limits=self.pool_limits()),
        )

    async def aclose(self) -> None:
        await self.client.close()

    def build_params(self, model: str, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments for `messages.create`."""
        system, messages = to_anthropic_messages(request.messages)
        params: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            params["system"] = system
        tools = to_anthropic_tools(request.tools) if request.tools else []
        fmt = request.response_format
        if fmt is not None:
            schema = fmt.schema or {"type": "object"}
            tools.append({"name": fmt.name, "description": "Return the answer in this shape.", "input_schema": schema})
            params["tool_choice"] = {"type": "tool", "name": fmt.name}
        elif request.tool_choice is not None and tools:
            params["tool_choice"] = to_anthropic_tool_choice(request.tool_choice)
        if tools:
            params["tools"] = tools
        extra = dict(request.extra) if request.extra else {}
        if request.temperature is not None:
            # newer SDKs dropped the `temperature` argument; the API still takes it in the body
            extra["temperature"] = request.temperature
        if extra:
            params["extra_body"] = extra
        return params

    async def chat(self, model: str, request: ChatRequest, *, timeout: float | None) -> ChatResult:
        anthropic = self._anthropic
        started = time.perf_counter()
        try:
            raw = await self.client.messages.with_raw_response.create(
                **self.build_params(model, request), timeout=timeout
            )
        except anthropic.APIStatusError as exc:
            raise status_error(
                exc,
                provider=self.name,
                model=model,
                secret=self.endpoint.api_key,
                refine=_anthropic_class,
                code_field="type",
                retry_after_statuses=(429, 503, 529),
            ) from None
        except anthropic.APITimeoutError:
            raise ProviderTimeoutError(f"The request to {model} timed out.", provider=self.name, model=model) from None
        except anthropic.APIConnectionError as exc:
            message = scrub(f"Could not connect to the model endpoint: {exc.__cause__ or exc}", self.endpoint.api_key)
            raise ProviderConnectionError(message, provider=self.name, model=model) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            body = orjson.loads(raw.http_response.content)
            blocks = body["content"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ParseError("The endpoint returned an unreadable response.", provider=self.name, model=model) from None
        return self.parse_message(body, blocks, model, request, latency_ms)

    def parse_message(
        self, body: dict[str, Any], blocks: list[dict[str, Any]], model: str, request: ChatRequest, latency_ms: float
    ) -> ChatResult:
        """Turn an Anthropic `message` body into a `ChatResult`."""
        fmt = request.response_format
        texts: list[str] = []
        tool_calls: list[ToolCall] = []
        openai_calls: list[dict[str, Any]] = []
        parsed: Any = None
        structured: Any = None
        structured_seen = False
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                texts.append(block.get("text", ""))
            elif kind == "tool_use":
                tool_input = block.get("input") or {}
                if fmt is not None and block.get("name") == fmt.name:
                    structured_seen = True
                    structured = tool_input
                    if fmt.decode:
                        parsed = decode_json(
                            orjson.dumps(tool_input).decode(), fmt.schema, provider=self.name, model=model
                        )
                    continue
                tool_calls.append(ToolCall(name=block.get("name", ""), arguments=tool_input))
                openai_calls.append(
                    {
                        "id": block.get("id", ""),
                        "type": "function",
                        "function": {"name": block.get("name", ""), "arguments": orjson.dumps(tool_input).decode()},
                    }
                )
        text = "".join(texts)
        if fmt is not None and fmt.decode and not structured_seen:
            parsed = decode_json(text, fmt.schema, provider=self.name, model=model, lenient=True)
        if structured_seen:
            text = orjson.dumps(structured).decode()
        usage = body.get("usage") or {}
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if openai_calls:
            message["tool_calls"] = openai_calls
        stop = body.get("stop_reason")
        finish = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "stop"}.get(
            stop or "", stop
        )
        if structured_seen:
            finish = "stop"
        return ChatResult(
            text=text,
            tool_calls=tool_calls,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=int(usage.get("output_tokens") or 0),
            latency_ms=latency_ms,
            finish_reason=finish,
            parsed=parsed,
            model=body.get("model") or model,
            message=message,
        )


def _anthropic_class(
    cls: type[ProviderError], status: int, body_type: str | None, detail: str | None
) -> type[ProviderError]:
    """Anthropic's overload (529) is a server error; an exhausted credit balance is a quota error."""
    if body_type == "billing_error" or (status == 400 and detail and "credit balance" in detail):
        return QuotaExceededError
    if status == 529 or body_type == "overloaded_error":
        return ServerError
    return cls
