"""Instance (agent under test) configs, discriminated on `kind`: `openai_chat`, `http` or `python` (local only).

Secrets are `api_key`, every header value (except the common non-secret headers such as Content-Type, and
those marked `"secret": false`) and every URL query value (except the names in `public_query`). Header
values are `SecretStr`: hidden in `repr`; every secret is masked by default when dumped, and
`spec.reveal()` gives the plain dict a caller encrypts before storing (see `assay.domain.secrets`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    SerializationInfo,
    TypeAdapter,
    field_serializer,
    field_validator,
)

from assay.domain.secrets import MASK, header_is_secret, is_secret_header, split_query
from assay.targets.jsonpath import Step, parse_path
from assay.targets.python_target import PythonSpec
from assay.targets.template import check_template

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _check_url(value: str, field: str) -> str:
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ValueError(f"{field} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{field} must be an absolute http(s) URL such as https://agent.example.com/chat.")
    return value


def _reveal_context(info: SerializationInfo) -> bool:
    return bool(info.context and info.context.get("reveal_secrets"))


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    """Seconds allowed for one attempt."""
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    """In-flight requests to this endpoint (also its connection-pool size)."""

    def reveal(self) -> dict[str, Any]:
        """A JSON-ready dict with secrets in plain text (encrypt them before storing)."""
        return self.model_dump(mode="json", context={"reveal_secrets": True})

    def secret_values(self) -> list[str]:
        """Every secret string in this config (to scrub from messages)."""
        return []


class _QueryPublic(BaseModel):
    public_query: list[str] = Field(default_factory=list)
    """Names of URL query parameters whose values are shown; every other query value is secret."""

    def _dump_url(self, value: str, info: SerializationInfo) -> str:
        return value if _reveal_context(info) else split_query(value, self.public_query)[0]

    def _query_secrets(self, url: str) -> list[str]:
        return [value for _, value in split_query(url, self.public_query)[1]]


def _worth_scrubbing(values: list[str]) -> list[str]:
    """Values long enough to scrub from messages: replacing `2` or `401` everywhere would garble them, and
    every header and query value is secret by default, however plain."""
    return [v for v in values if len(v) >= 4]


class ToolFunction(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _TOOL_NAME.match(value):
            raise ValueError("tool function name must be 1-64 letters, digits, '_' or '-'")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type", "object") != "object":
            raise ValueError("tool parameters must be a JSON schema of type 'object'")
        return value


class ToolSchema(BaseModel):
    """An OpenAI tool: `{"type": "function", "function": {"name", "description", "parameters"}}`."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["function"] = "function"
    function: ToolFunction


class ChatParameters(BaseModel):
    """Sampling parameters; unknown ones (e.g. `seed`, `stop`) are passed through to the endpoint."""

    model_config = ConfigDict(extra="allow")

    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)


class OpenAIChatSpec(_QueryPublic, _Base):
    """An OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama, LM Studio …)."""

    kind: Literal["openai_chat"] = "openai_chat"
    base_url: str
    model: str = Field(min_length=1)
    system_prompt: str | None = None
    tools: list[ToolSchema] = Field(default_factory=list)
    parameters: ChatParameters = Field(default_factory=ChatParameters)
    api_key: SecretStr | None = None
    """Write-only; optional for local servers."""
    requests_per_minute: float | None = Field(default=None, gt=0, le=10_000_000)
    """Requests per minute allowed on this endpoint and key, across every process of the cluster."""
    tokens_per_minute: float | None = Field(default=None, gt=0, le=1_000_000_000)
    """Tokens per minute allowed on this endpoint and key, across every process of the cluster."""

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, "base_url").rstrip("/")

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, value: list[ToolSchema]) -> list[ToolSchema]:
        names = [tool.function.name for tool in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate tool names: {', '.join(duplicates)}")
        return value

    @field_serializer("api_key")
    def _dump_key(self, value: SecretStr | None, info: SerializationInfo) -> str | None:
        if value is None:
            return None
        return value.get_secret_value() if _reveal_context(info) else MASK

    @field_serializer("base_url")
    def _dump_base_url(self, value: str, info: SerializationInfo) -> str:
        return self._dump_url(value, info)

    def secret_values(self) -> list[str]:
        key = [self.api_key.get_secret_value()] if self.api_key is not None else []
        return key + _worth_scrubbing(self._query_secrets(self.base_url))


class HeaderValue(BaseModel):
    """A header value; `secret` hides it in responses and logs.

    Secret unless marked `"secret": false` or the header is a common non-secret one (Content-Type, Accept,
    User-Agent …); a header whose name says it is secret (Authorization, X-Password, *token* …) always is.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    value: SecretStr
    secret: bool = True

    @field_serializer("value")
    def _dump_value(self, value: SecretStr, info: SerializationInfo) -> str:
        return value.get_secret_value() if not self.secret or _reveal_context(info) else MASK


class ResponseMapping(BaseModel):
    """Where to find the reply in the endpoint's JSON response (simple JSON paths)."""

    model_config = ConfigDict(extra="forbid")

    text: str = "$"
    """The reply text; `$` is the whole body (a JSON string, or the raw body when it is not JSON)."""
    tool_calls: str | None = None
    """A list of `{name, arguments}` (or OpenAI `{function: {name, arguments}}`); arguments may be a JSON string."""
    tokens: str | None = None

    @field_validator("text", "tool_calls", "tokens")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value

    def steps(self, field: Literal["text", "tool_calls", "tokens"]) -> tuple[Step, ...] | None:
        """The parsed steps of one mapping (None when unmapped)."""
        path = getattr(self, field)
        return None if path is None else parse_path(path)


class HttpSpec(_QueryPublic, _Base):
    """Any HTTP endpoint: a JSON body built from a template, a reply read through JSON paths."""

    kind: Literal["http"] = "http"
    url: str
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    headers: dict[str, HeaderValue] = Field(default_factory=dict)
    body_template: Any = Field(default_factory=lambda: {"input": "{{input_message}}"})
    response: ResponseMapping = Field(default_factory=ResponseMapping)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, "url")

    @field_serializer("url")
    def _dump_http_url(self, value: str, info: SerializationInfo) -> str:
        return self._dump_url(value, info)

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, item in value.items():
            if not isinstance(name, str) or not name.strip() or any(c in name for c in " :\r\n"):
                raise ValueError(f"invalid header name {name!r}")
            if isinstance(item, str):
                item = {"value": item}
            if isinstance(item, dict) and (is_secret_header(name) or item.get("secret") is None):
                item = {**item, "secret": header_is_secret(name, None)}  # else pydantic checks the flag given
            out[name] = item
        return out

    @field_validator("body_template")
    @classmethod
    def _template(cls, value: Any) -> Any:
        check_template(value)
        return value

    def header_values(self) -> dict[str, str]:
        """The headers to send, secrets in plain text."""
        return {name: item.value.get_secret_value() for name, item in self.headers.items()}

    def secret_values(self) -> list[str]:
        headers = [item.value.get_secret_value() for item in self.headers.values() if item.secret]
        return _worth_scrubbing(headers + self._query_secrets(self.url))


InstanceSpec = Annotated[OpenAIChatSpec | HttpSpec | PythonSpec, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[OpenAIChatSpec | HttpSpec | PythonSpec] = TypeAdapter(
    InstanceSpec, config=ConfigDict(hide_input_in_errors=True)
)


def parse_spec(data: dict[str, Any]) -> OpenAIChatSpec | HttpSpec | PythonSpec:
    """Validate an instance config dict; raise `pydantic.ValidationError` with clear messages."""
    return _ADAPTER.validate_python(data)
