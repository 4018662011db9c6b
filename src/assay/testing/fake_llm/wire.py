"""Response bodies in the OpenAI and Anthropic wire formats (plain dicts, serialised with orjson)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson

from assay.testing.fake_llm.answer import Answer

OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}
ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _tool_args(call: dict[str, Any]) -> dict[str, Any]:
    args = call.get("arguments", {})
    return args if isinstance(args, dict) else {}


def openai_completion(answer: Answer, model: str, seq: int) -> dict[str, Any]:
    """An OpenAI `chat.completion` object."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.text or None, "refusal": None}
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{seq}_{i}",
                "type": "function",
                "function": {"name": call["name"], "arguments": orjson.dumps(_tool_args(call)).decode()},
            }
            for i, call in enumerate(answer.tool_calls)
        ]
    elif message["content"] is None:
        message["content"] = ""
    return {
        "id": f"chatcmpl-fake{seq}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason, "logprobs": None}],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
        "system_fingerprint": "fake",
    }


def openai_stream(answer: Answer, model: str, seq: int, include_usage: bool) -> Iterator[bytes]:
    """Server-sent events of `chat.completion.chunk` objects, ending with `[DONE]`."""
    base = {"id": f"chatcmpl-fake{seq}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def event(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
        chunk = dict(base, choices=[{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else [])
        if usage is not None:
            chunk["usage"] = usage
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    yield event({"role": "assistant", "content": ""})
    text = answer.text
    step = max(1, len(text) // 4 + 1)
    for start in range(0, len(text), step):
        yield event({"content": text[start : start + step]})
    for i, call in enumerate(answer.tool_calls or []):
        yield event(
            {
                "tool_calls": [
                    {
                        "index": i,
                        "id": f"call_{seq}_{i}",
                        "type": "function",
                        "function": {"name": call["name"], "arguments": orjson.dumps(_tool_args(call)).decode()},
                    }
                ]
            }
        )
    yield event({}, answer.finish_reason)
    if include_usage:
        total = answer.prompt_tokens + answer.completion_tokens
        yield event(
            {},
            usage={
                "prompt_tokens": answer.prompt_tokens,
                "completion_tokens": answer.completion_tokens,
                "total_tokens": total,
            },
        )
    yield b"data: [DONE]\n\n"


def anthropic_message(answer: Answer, model: str, seq: int, forced_tool: str | None) -> dict[str, Any]:
    """An Anthropic `message` object with text and tool_use blocks."""
    content: list[dict[str, Any]] = []
    stop_reason = "end_turn"
    if forced_tool is not None and answer.is_json:
        try:
            tool_input = orjson.loads(answer.text.removeprefix("```json\n").removesuffix("\n```"))
        except orjson.JSONDecodeError:
            tool_input = {"_malformed": answer.text}
        content.append({"type": "tool_use", "id": f"toolu_fake{seq}_0", "name": forced_tool, "input": tool_input})
        stop_reason = "tool_use"
    else:
        if answer.text:
            content.append({"type": "text", "text": answer.text})
        for i, call in enumerate(answer.tool_calls or []):
            content.append(
                {"type": "tool_use", "id": f"toolu_fake{seq}_{i}", "name": call["name"], "input": _tool_args(call)}
            )
            stop_reason = "tool_use"
    if answer.truncated and stop_reason == "end_turn":
        stop_reason = "max_tokens"
    return {
        "id": f"msg_fake{seq}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": answer.prompt_tokens, "output_tokens": answer.completion_tokens},
    }


def openai_error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """An OpenAI error body."""
    kind = "insufficient_quota" if code == "insufficient_quota" else OPENAI_ERROR_TYPES.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def anthropic_error(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    """An Anthropic error body."""
    return {
        "type": "error",
        "error": {"type": code or ANTHROPIC_ERROR_TYPES.get(status, "api_error"), "message": message},
    }
