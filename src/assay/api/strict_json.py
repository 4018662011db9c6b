"""ASGI middleware refusing JSON bodies that hold NaN, ±Infinity, numbers beyond a double or lone surrogates.

Python's JSON reader accepts all of these, yet none is valid JSON text or storable in the databases, and a
validation error echoing them cannot be rendered. Both API surfaces answer them as a JSON parse error
(the capture endpoints decode their bodies themselves).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.api.errors import json_parse_error_response
from assay.api.safe_json import unstorable_json_reason

_SURFACES = ("/api/", "/v1/")
_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_OWN_DECODING = ("/v1/traces", "/v1/logs")  # OTLP receivers: their JSON errors follow the OTLP specification


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))
    return False


class StrictJsonMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _METHODS
            or not scope["path"].startswith(_SURFACES)
            or scope["path"].rstrip("/") in _OWN_DECODING
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        reason = unstorable_json_reason(body)
        if reason is not None:
            await json_parse_error_response(scope["path"], reason)(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive channel that yields `messages` first, then the client's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
