"""How real OpenAI-compatible servers treat `response_format` (and `max_tokens`), for the fake server to imitate.

- `openai`: json_schema and json_object (a `schema` key inside json_object is ignored).
- `llama_cpp`: llama-cpp-python's server. json_schema fails request validation and is answered with **HTTP 500**
  ("Input should be 'text' or 'json_object'"); `{"type": "json_object", "schema": …}` constrains the output to
  the schema by grammar.
- `llama_server`: older builds of llama.cpp's own server: json_schema gets 400 ("response_format type must be one
  of "text" or "json_object""); json_object with a schema is constrained as above.
- `ollama`: Ollama's `/v1` before 0.5: json_object becomes `format: "json"` (JSON, shaped by the prompt);
  json_schema and unknown types are **silently ignored** (HTTP 200, free text). Newer Ollama behaves like `openai`.
- `vllm`: json_schema, json_object and the `guided_json` / `structured_outputs.json` extra parameters are guided
  decoding; a schema using a keyword the grammar backend cannot compile (`grammar_unsupported_keywords`) gets 400
  with vLLM's top-level error object; `max_tokens` beyond the context gets 400.
- `lmstudio`: json_schema only; json_object gets 400 `{"error": "'response_format.type' must be …"}`.
"""

from __future__ import annotations

from typing import Any, Literal

from assay.testing.fake_llm.conversation import Conversation

Flavor = Literal["openai", "llama_cpp", "llama_server", "ollama", "vllm", "lmstudio"]

LLAMA_CPP_PYTHON_ERROR = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n"
    "  Input should be 'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]"
)
LLAMA_SERVER_ERROR = 'response_format type must be one of "text" or "json_object", but got: json_schema'
VLLM_SCHEMA_ERROR = "The provided JSON schema contains features not supported by xgrammar."
LMSTUDIO_ERROR = "'response_format.type' must be 'json_schema' or 'text'"
MAX_COMPLETION_TOKENS_ERROR = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
)

Refusal = tuple[int, dict[str, Any]]


def _openai_error(message: str, kind: str = "invalid_request_error", code: Any = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _uses_keyword(schema: Any, keywords: set[str]) -> bool:
    if isinstance(schema, dict):
        return any(k in keywords for k in schema) or any(_uses_keyword(v, keywords) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_keyword(v, keywords) for v in schema)
    return False


def apply_flavor(
    flavor: Flavor, body: dict[str, Any], conv: Conversation, *, unsupported: list[str], context_tokens: int
) -> Refusal | None:
    """Refuse what the imitated server refuses, or adjust `conv` to what it will constrain; None to go on."""
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    inline_schema = fmt.get("schema") if isinstance(fmt, dict) and isinstance(fmt.get("schema"), dict) else None
    if flavor == "llama_cpp":
        if kind not in (None, "text", "json_object"):
            return 500, _openai_error(LLAMA_CPP_PYTHON_ERROR, "internal_server_error")
        if kind == "json_object" and inline_schema is not None:
            conv.json_schema = inline_schema
    elif flavor == "llama_server":
        if kind not in (None, "text", "json_object"):
            return 400, {"error": {"code": 400, "message": LLAMA_SERVER_ERROR, "type": "invalid_request_error"}}
        if kind == "json_object" and inline_schema is not None:
            conv.json_schema = inline_schema
    elif flavor == "ollama":
        if kind not in (None, "json_object"):
            conv.json_schema = None  # ignored: the model answers as it likes
            conv.json_requested = False
            conv.format_ignored = True
    elif flavor == "vllm":
        guided = body.get("guided_json")
        if guided is None and isinstance(body.get("structured_outputs"), dict):
            guided = body["structured_outputs"].get("json")
        if isinstance(guided, dict):
            conv.json_schema = guided
            conv.json_requested = True
        if conv.json_schema is not None and _uses_keyword(conv.json_schema, set(unsupported)):
            return 400, {
                "object": "error",
                "message": VLLM_SCHEMA_ERROR,
                "type": "BadRequestError",
                "param": None,
                "code": 400,
            }
        if conv.max_tokens is not None and conv.prompt_tokens + conv.max_tokens > context_tokens:
            message = (
                f"This model's maximum context length is {context_tokens} tokens. However, you requested "
                f"{conv.prompt_tokens + conv.max_tokens} tokens ({conv.prompt_tokens} in the messages, "
                f"{conv.max_tokens} in the completion). Please reduce the length of the messages or completion."
            )
            return 400, {"object": "error", "message": message, "type": "BadRequestError", "param": None, "code": 400}
    elif flavor == "lmstudio":
        if kind == "json_object":
            return 400, {"error": LMSTUDIO_ERROR}
    return None
