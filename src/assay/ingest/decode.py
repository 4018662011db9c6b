"""Decoding capture request bodies the way the PostHog SDKs send them.

Accepted forms (for `/batch/`, `/capture/`, `/e/`, `/i/v0/e/`, and the Python SDK's AI lane `/i/v0/ai/batch/`):

- posthog-python: `{"batch": [...], "api_key": ..., "sent_at": ..., "historical_migration": ...}` as JSON,
  optionally gzip-compressed with `Content-Encoding: gzip`; a single event object (`/capture/`) too.
- posthog-js: a JSON list or object; `?compression=gzip-js` with a raw gzip body; `?compression=base64`
  or `lz64`; a form body `data=<base64|lz64|JSON>[&compression=...]`; the sent time as `?_=<epoch ms>`.
- A body that is not JSON is tried as base64 (as PostHog does), and gzip is recognised by its magic bytes
  whatever the headers say. `Content-Encoding: deflate` (zlib) is accepted as well.

Not accepted: brotli/zstd bodies and the capture-v1 protocol (`/i/v1/analytics/events`).
Everything undecodable raises `CaptureDecodeError` with the reason; nothing else escapes.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

MAX_BODY_BYTES = 20 * 1024 * 1024
"""Largest request body accepted as sent (compressed or not)."""

MAX_DECODED_BYTES = 64 * 1024 * 1024
"""Largest body after decompression (guards against compression bombs)."""

_GZIP_MAGIC = b"\x1f\x8b"


class CaptureDecodeError(ValueError):
    """The request body cannot be decoded; `message` says why (sent back with a 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class CapturePayload:
    """A decoded capture request. `events` are the raw items (normally dicts; others are rejected per event)."""

    token: str | None
    events: list[Any]
    sent_at: datetime | None
    historical_migration: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def parse_datetime(value: Any) -> datetime | None:
    """An ISO-8601 string as an aware UTC datetime (no zone → UTC); None when it is not one."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and 0 < len(value) <= 64:
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _bounded_inflate(data: bytes, wbits: int, what: str) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, MAX_DECODED_BYTES + 1)
    except zlib.error as e:
        raise CaptureDecodeError(f"body is not valid {what} data: {e}") from None
    if len(out) > MAX_DECODED_BYTES or d.unconsumed_tail:
        raise CaptureDecodeError(f"decompressed body is over the {MAX_DECODED_BYTES // (1024 * 1024)} MiB limit")
    if not d.eof:
        raise CaptureDecodeError(f"body is truncated {what} data")
    return out


def gunzip(data: bytes) -> bytes:
    """Decompress gzip with a size bound."""
    return _bounded_inflate(data, 16 + zlib.MAX_WBITS, "gzip")


def inflate(data: bytes) -> bytes:
    """Decompress zlib (`Content-Encoding: deflate`) with a size bound."""
    return _bounded_inflate(data, zlib.MAX_WBITS, "deflate")


def _b64decode(text: str | bytes) -> bytes:
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise CaptureDecodeError("body is neither JSON nor base64") from None
    # form-decoding turns '+' into ' '; tolerate line breaks, missing padding and the url-safe alphabet
    cleaned = text.strip().replace(" ", "+").replace("\n", "").replace("\r", "")
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise CaptureDecodeError("body is neither JSON nor valid base64") from None


# --- lz-string (compressToBase64 format) decompression, written for Assay -------------------------

_LZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_LZ_INDEX = {c: i for i, c in enumerate(_LZ_ALPHABET)}


def lz_decompress_from_base64(text: str) -> str:
    """Decompress an lz-string `compressToBase64` payload (posthog-js `lz64`)."""
    text = text.replace(" ", "+")
    try:
        values = [_LZ_INDEX[c] for c in text if c not in "\r\n"]
    except KeyError as e:
        raise CaptureDecodeError(f"lz64 data has an invalid character {e.args[0]!r}") from None
    if not values:
        raise CaptureDecodeError("lz64 data is empty")
    units = _lz_decompress(values, 32)
    try:
        return "".join(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeError:
        raise CaptureDecodeError("lz64 data decodes to invalid text") from None


def _lz_decompress(values: list[int], reset: int) -> list[str]:
    n = len(values)
    cur = values[0]
    mask = reset
    index = 1

    def read(bits: int) -> int:
        nonlocal cur, mask, index
        out = 0
        for k in range(bits):
            if cur & mask:
                out |= 1 << k
            mask >>= 1
            if mask == 0:
                mask = reset
                cur = values[index] if index < n else 0
                index += 1
        return out

    dictionary: list[str] = ["", "", ""]
    kind = read(2)
    if kind == 2:
        return []
    if kind > 2:
        raise CaptureDecodeError("lz64 data is corrupt")
    w = chr(read(8 if kind == 0 else 16))
    dictionary.append(w)
    result = [w]
    total = 1
    enlarge_in = 4
    num_bits = 3
    while True:
        if index > n:
            raise CaptureDecodeError("lz64 data is truncated")
        c = read(num_bits)
        if c in (0, 1):
            dictionary.append(chr(read(8 if c == 0 else 16)))
            c = len(dictionary) - 1
            enlarge_in -= 1
            if enlarge_in == 0:
                enlarge_in = 1 << num_bits
                num_bits += 1
        elif c == 2:
            return result
        if c < len(dictionary) and c > 2:
            entry = dictionary[c]
        elif c == len(dictionary):
            entry = w + w[0]
        else:
            raise CaptureDecodeError("lz64 data is corrupt")
        result.append(entry)
        total += len(entry)
        if total > MAX_DECODED_BYTES:
            raise CaptureDecodeError(f"decompressed body is over the {MAX_DECODED_BYTES // (1024 * 1024)} MiB limit")
        dictionary.append(w + entry[0])
        enlarge_in -= 1
        w = entry
        if enlarge_in == 0:
            enlarge_in = 1 << num_bits
            num_bits += 1


# --- request decoding ---------------------------------------------------------------------------


def _loads(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        data = data.lstrip().removeprefix(b"\xef\xbb\xbf")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise CaptureDecodeError(f"body is not valid JSON: {e}") from None


def _looks_like_json(data: bytes) -> bool:
    head = data.lstrip().removeprefix(b"\xef\xbb\xbf")[:1]
    return head in (b"{", b"[")


def _json_or_base64(data: bytes) -> Any:
    if _looks_like_json(data):
        return _loads(data)
    decoded = _b64decode(data)
    if decoded.startswith(_GZIP_MAGIC):
        decoded = gunzip(decoded)
    if not _looks_like_json(decoded):
        raise CaptureDecodeError("body is neither JSON nor base64-encoded JSON")
    return _loads(decoded)


def _decode_text_payload(data: str, compression: str) -> Any:
    if compression == "lz64":
        return _loads(lz_decompress_from_base64(data))
    return _json_or_base64(data.encode("utf-8"))


def _decode_form(body: bytes, compression: str) -> tuple[Any, Mapping[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CaptureDecodeError("form body is not UTF-8") from None
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))
    except ValueError as e:
        raise CaptureDecodeError(f"form body is malformed: {e}") from None
    if "data" not in form:
        raise CaptureDecodeError("form body has no `data` field")
    compression = (form.get("compression") or compression).lower()
    return _decode_text_payload(form["data"], compression), form


def _decompress_body(body: bytes, encoding: str, compression: str) -> bytes:
    if encoding in ("br", "zstd", "compress"):
        raise CaptureDecodeError(f"Content-Encoding {encoding!r} is not supported; use gzip")
    if encoding == "gzip" or compression in ("gzip", "gzip-js") or body.startswith(_GZIP_MAGIC):
        return gunzip(body)
    if encoding == "deflate":
        return inflate(body)
    return body


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = mapping.get(k)
        if v is not None and v != "":
            return v
    return None


def _token_of(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CaptureDecodeError(f"{where} must be a string")
    return value.strip() or None


def _collect_token(root: Mapping[str, Any] | None, events: list[Any], query: Mapping[str, str]) -> str | None:
    tokens: set[str] = set()
    if root is not None:
        t = _token_of(_first(root, "api_key", "token"), "api_key")
        if t:
            tokens.add(t)
    for ev in events:
        if not isinstance(ev, Mapping):
            continue
        props = ev.get("properties")
        props = props if isinstance(props, Mapping) else {}
        t = _first(ev, "api_key", "token") or _first(props, "token", "api_key")
        if isinstance(t, str) and t.strip():  # a non-string "token" property is just a property
            tokens.add(t.strip())
    if len(tokens) > 1:
        raise CaptureDecodeError("events in one request carry different project tokens")
    if tokens:
        return tokens.pop()
    return _token_of(_first(query, "token", "api_key"), "token") or None


def _sent_at(root: Mapping[str, Any] | None, query: Mapping[str, str]) -> datetime | None:
    if root is not None:
        dt = parse_datetime(root.get("sent_at"))
        if dt is not None:
            return dt
    ms = query.get("_")
    if ms and ms.isdigit() and len(ms) <= 15:
        try:
            return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _events_of(doc: Any, compression: str) -> tuple[Mapping[str, Any] | None, list[Any]]:
    if isinstance(doc, list):
        return None, doc
    if not isinstance(doc, dict):
        raise CaptureDecodeError("body must be a JSON object or list of events")
    for key in ("batch", "data"):
        if key in doc:
            inner = doc[key]
            if key == "data" and isinstance(inner, str):  # {"data": "<base64 | lz64 | JSON>"}
                inner = _decode_text_payload(inner, compression)
            if isinstance(inner, list):
                return doc, inner
            if isinstance(inner, dict):
                return doc, [inner]
            raise CaptureDecodeError(f"`{key}` must be a list of events")
    if "event" in doc:
        return doc, [doc]
    raise CaptureDecodeError('no events: expected an event object, a list of events or {"batch": [...]}')


def decode_capture_request(
    body: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None,
    query: Mapping[str, str],
) -> CapturePayload:
    """Decode one capture request body into its token, raw events and sent time (see module doc)."""
    try:
        return _decode(body, content_type, content_encoding, query)
    except CaptureDecodeError:
        raise
    except (RecursionError, MemoryError):
        raise CaptureDecodeError("body is too deeply nested or too large") from None
    except Exception as e:  # defensive: every undecodable body is a client error, never a 500
        raise CaptureDecodeError(f"body could not be decoded ({type(e).__name__})") from None


def _decode(
    body: bytes, content_type: str | None, content_encoding: str | None, query: Mapping[str, str]
) -> CapturePayload:
    if len(body) > MAX_BODY_BYTES:
        raise CaptureDecodeError(
            f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES // (1024 * 1024)} MiB"
        )
    if not body.strip():
        raise CaptureDecodeError("request body is empty")
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    encoding = (content_encoding or "").split(",", 1)[0].strip().lower()
    compression = (query.get("compression") or "").strip().lower()
    meta: dict[str, Any] = {}

    if mime == "application/x-www-form-urlencoded" or (
        mime != "application/json" and body.startswith(b"data=") and not encoding
    ):
        doc, form = _decode_form(body, compression)
        meta["form"] = True
        if "compression" in form:
            meta["compression"] = form["compression"]
    else:
        raw = _decompress_body(body, encoding, compression)
        if compression == "lz64" and not _looks_like_json(raw):
            try:
                doc = _loads(lz_decompress_from_base64(raw.decode("ascii")))
            except UnicodeDecodeError:
                raise CaptureDecodeError("lz64 body is not ASCII") from None
        elif raw.startswith(b"data="):
            doc, _form = _decode_form(raw, compression)
        else:
            doc = _json_or_base64(raw)

    root, events = _events_of(doc, compression)
    token = _collect_token(root, events, query)
    historical = bool(root.get("historical_migration")) if root is not None else False
    return CapturePayload(
        token=token,
        events=events,
        sent_at=_sent_at(root, query),
        historical_migration=historical,
        meta=meta,
    )
