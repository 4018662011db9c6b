"""OpenAI-compatible chat completions (OpenAI, Azure-style, vLLM, Ollama, LM Studio, OpenRouter …)."""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from assay.domain.outcomes import ToolCall
from assay.providers.base import ProviderAdapter
from assay.providers.datatypes import ChatRequest, ChatResult, EndpointConfig
from assay.providers.errors import (
    ClassRefiner,
    ParseError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    scrub,
    status_error,
)
from assay.providers.structured import UnsupportedResponseFormat, decode_json, is_format_rejection


class OpenAIAdapter(ProviderAdapter):
    """Adapter over `openai.AsyncOpenAI` with SDK retries off (the registry retries)."""

    name = "openai"

    def __init__(self, endpoint: EndpointConfig) -> None:
        super().__init__(endpoint)
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("The openai provider needs the `openai` package: pip install 'assay[server]'") from exc
        self._openai = openai
        self._completion_tokens_models: set[str] = set()
        self.client = openai.AsyncOpenAI(
            api_key=endpoint.api_key or "not-needed",
            base_url=endpoint.base_url,
            max_retries=0,
            default_headers=endpoint.default_headers,
            default_query=endpoint.default_query,
            http_client=openai.DefaultAsyncHttpxClient(limits=self.pool_limits()),
        )

    async def aclose(self) -> None:
        await self.client.close()

    def build_params(self, model: str, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments for `chat.completions.create`."""
        params: dict[str, Any] = {"model": model, "messages": request.messages}
        if request.tools:
            params["tools"] = request.tools
        if request.tool_choice is not None:
            params["tool_choice"] = request.tool_choice
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.max_tokens is not None and model in self._completion_tokens_models:
            params["max_completion_tokens"] = params.pop("max_tokens")
        fmt = request.response_format
        if fmt is not None:
            if fmt.schema is None:
                params["response_format"] = {"type": "json_object"}
            elif fmt.type == "json_object":
                params["response_format"] = {"type": "json_object", "schema": fmt.schema}
            else:
                params["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": fmt.name, "schema": fmt.schema, "strict": fmt.strict},
                }
        if request.extra:
            params["extra_body"] = request.extra
        return params

    async def chat(self, model: str, request: ChatRequest, *, timeout: float | None) -> ChatResult:
        openai = self._openai
        started = time.perf_counter()
        params = self.build_params(model, request)
        try:
            for adjustments in range(3):
                try:
                    raw = await self.client.chat.completions.with_raw_response.create(**params, timeout=timeout)
                    break
                except openai.APIStatusError as exc:
                    error = status_error(
                        exc,
                        provider=self.name,
                        model=model,
                        secret=self.endpoint.api_key,
                        detail=_detail,
                        refine=_format_refusal(request),
                    )
                    if adjustments == 2 or not self._adjust_output_cap(params, model, error):
                        raise error from None
        except openai.APITimeoutError:
            raise ProviderTimeoutError(f"The request to {model} timed out.", provider=self.name, model=model) from None
        except openai.APIConnectionError as exc:
            message = scrub(f"Could not connect to the model endpoint: {exc.__cause__ or exc}", self.endpoint.api_key)
            raise ProviderConnectionError(message, provider=self.name, model=model) from None
        latency_ms = (time.perf_counter() - started) * 1000.0
        try:
            body = orjson.loads(raw.http_response.content)
            choice = body["choices"][0]
            message = choice["message"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise ParseError("The endpoint returned an unreadable response.", provider=self.name, model=model) from None
        return self.parse_completion(body, choice, message, model, request, latency_ms)

    def parse_completion(
        self,
        body: dict[str, Any],
        choice: dict[str, Any],
        message: dict[str, Any],
        model: str,
        request: ChatRequest,
        latency_ms: float,
    ) -> ChatResult:
        """Turn a `chat.completion` body into a `ChatResult`."""
        text = message.get("content") or ""
        tool_calls = []
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            arguments = function.get("arguments") or "{}"
            try:
                parsed_args = orjson.loads(arguments) if isinstance(arguments, str) else arguments
            except orjson.JSONDecodeError:
                parsed_args = {"_raw": arguments}
            if not isinstance(parsed_args, dict):
                parsed_args = {"_value": parsed_args}
            tool_calls.append(ToolCall(name=function.get("name", ""), arguments=parsed_args))
        usage = body.get("usage") or {}
        parsed = None
        fmt = request.response_format
        if fmt is not None and fmt.decode:
            parsed = decode_json(text, fmt.schema, provider=self.name, model=model)
        return ChatResult(
            text=text,
            tool_calls=tool_calls,
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            latency_ms=latency_ms,
            finish_reason=choice.get("finish_reason"),
            parsed=parsed,
            model=body.get("model") or model,
            message=message,
        )

    def _adjust_output_cap(self, params: dict[str, Any], model: str, error: ProviderError) -> bool:
        """Change the output cap the way the refusal asks (a different request, so worth sending); False if not."""
        if error.kind != "bad_request":
            return False
        key = "max_tokens" if "max_tokens" in params else "max_completion_tokens"
        if key == "max_tokens" and "max_completion_tokens" in error.message:
            # newer OpenAI models refuse `max_tokens`; most other servers only know `max_tokens`
            self._completion_tokens_models.add(model)
            params["max_completion_tokens"] = params.pop("max_tokens")
            return True
        room = _context_room(error.message)
        if key in params and room is not None and MIN_OUTPUT_TOKENS <= room < params[key]:
            params[key] = room  # vLLM refuses prompt + max_tokens beyond the context instead of stopping early
            return True
        return False


def _format_refusal(request: ChatRequest) -> ClassRefiner:
    """Report a refused `response_format` as such, never retried as is, whatever status the server chose."""

    def refine(cls: type[ProviderError], status: int, body_type: str | None, detail: str | None) -> type[ProviderError]:
        if request.response_format is not None and is_format_rejection(status, detail):
            return UnsupportedResponseFormat
        return cls

    return refine


_MAX_DETAIL = 2000


def _detail(raw: Any, body: dict[str, Any]) -> str | None:
    """The error message of a body in the shapes servers use: OpenAI's `{"error": {"message"}}`, vLLM's top-level
    `{"message"}`, LM Studio's `{"error": "…"}`, FastAPI's `{"detail": "…" | [{"loc", "msg"}]}`, or plain text."""
    if isinstance(raw, str):
        return raw.strip()[:_MAX_DETAIL] or None
    detail: Any = body.get("message")
    if not isinstance(detail, str) or not detail:
        detail = body.get("error") if isinstance(body.get("error"), str) else body.get("detail")
    if isinstance(detail, list):
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc") or () if p != "body")
                parts.append(f"{loc}: {item.get('msg', '')}" if loc else str(item.get("msg", "")))
        detail = "; ".join(parts)
    return detail[:_MAX_DETAIL] if isinstance(detail, str) and detail else None


MIN_OUTPUT_TOKENS = 16
"""A context with less room than this for the answer is not worth a second request."""
_CONTEXT = re.compile(r"maximum context length is (\d+) tokens.*?\((\d+) in the messages", re.DOTALL)


def _context_room(message: str) -> int | None:
    """Tokens left for the answer, from vLLM's (and OpenAI's) "maximum context length" refusal."""
    match = _CONTEXT.search(message)
    return int(match.group(1)) - int(match.group(2)) if match else None
