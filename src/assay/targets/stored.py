"""Splitting an instance spec into what is stored in clear and what is stored encrypted, and back.

The stored (and returned) config has `MASK` wherever a secret is set (the API key, secret header values,
URL query values). A submitted config may also carry `MASK` (or, for a header, omit `value`) to mean
"keep the stored secret": that is how a client that read an instance back can send its config again
without knowing the secrets. A query value is kept by its parameter name.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from assay.domain.secrets import MASK, fill_query, split_query
from assay.targets.spec import HttpSpec, OpenAIChatSpec, parse_spec

Spec = OpenAIChatSpec | HttpSpec


class SecretNotStored(ValueError):
    """A config asks to keep a secret (`MASK`) that was never stored; `loc` is where, inside the config."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


_URL_FIELDS = ("url", "base_url")


def split_secrets(spec: Spec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The public config (without `kind`, secrets as `MASK`) and the secrets (`api_key`, `headers`, `query`)."""
    public = spec.model_dump(mode="json")
    public.pop("kind", None)
    secrets: dict[str, Any] = {}
    url = spec.url if isinstance(spec, HttpSpec) else spec.base_url if isinstance(spec, OpenAIChatSpec) else None
    query = split_query(url, spec.public_query)[1] if url is not None else []
    if query:
        secrets["query"] = [list(pair) for pair in query]
    if isinstance(spec, OpenAIChatSpec) and spec.api_key is not None:
        secrets["api_key"] = spec.api_key.get_secret_value()
    if isinstance(spec, HttpSpec):
        headers = {name: item.value.get_secret_value() for name, item in spec.headers.items() if item.secret}
        if headers:
            secrets["headers"] = headers
    return public, secrets


def _stored_header(stored: dict[str, str], name: str) -> str | None:
    if name in stored:
        return stored[name]
    lowered = name.lower()
    return next((value for key, value in stored.items() if key.lower() == lowered), None)


def fill_secrets(config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` with every `MASK` placeholder replaced by the stored secret; raise `SecretNotStored`."""
    out = dict(config)
    public = out.get("public_query") if isinstance(out.get("public_query"), list) else []
    for field in _URL_FIELDS:
        if isinstance(out.get(field), str):
            out[field], kept, missing = fill_query(out[field], [(n, v) for n, v in secrets.get("query") or ()])
            if missing:
                raise SecretNotStored(
                    (field,), f"No value is stored for query parameter {missing[0]!r} of {field}: send it."
                )
            shown = [name for name in kept if name in public]
            if shown:  # a kept secret stays secret: making it public takes sending the value itself
                raise SecretNotStored(
                    ("public_query",), f"Query parameter {shown[0]!r} holds a stored secret: send its value to show it."
                )
    if out.get("api_key") == MASK:
        if "api_key" not in secrets:
            raise SecretNotStored(("api_key",), "No API key is stored: send the key itself.")
        out["api_key"] = secrets["api_key"]
    headers = out.get("headers")
    if isinstance(headers, dict):
        stored: dict[str, str] = secrets.get("headers") or {}
        filled: dict[Any, Any] = {}
        for name, item in headers.items():
            masked = item == MASK or (isinstance(item, dict) and item.get("value", MASK) == MASK)
            if masked and isinstance(name, str):
                value = _stored_header(stored, name)
                if value is None:
                    raise SecretNotStored(("headers", name), f"No value is stored for header {name!r}: send it.")
                # A kept secret stays secret, whatever the client says, so it is never shown in clear.
                item = {"value": value, "secret": True}
            filled[name] = item
        out["headers"] = filled
    return out


def scrub(text: str, config: Any) -> str:
    """`text` with every secret-looking string of a submitted config replaced by `MASK`."""
    if not isinstance(config, dict):
        return text
    candidates: list[str] = []
    if isinstance(config.get("api_key"), str):
        candidates.append(config["api_key"])
    headers = config.get("headers")
    if isinstance(headers, dict):
        for item in headers.values():
            value = item.get("value") if isinstance(item, dict) else item
            if isinstance(value, str):
                candidates.append(value)
    for secret in sorted((c for c in candidates if len(c) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def validation_errors(exc: ValidationError, kind: str, config: Any) -> list[dict[str, Any]]:
    """Errors of `parse_spec` as `{loc, msg, type}` under `config`, with no input and no secret in them."""
    errors = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = list(err["loc"])
        if loc and loc[0] == kind:
            loc = loc[1:]
        errors.append({"loc": ["body", "config", *loc], "msg": scrub(str(err["msg"]), config), "type": err["type"]})
    return errors


def restore_spec(kind: str, public: dict[str, Any], secrets: dict[str, Any]) -> Spec:
    """The full spec (secrets in clear) from the stored public config and the decrypted secrets."""
    return parse_spec({**fill_secrets(public, secrets), "kind": kind})
