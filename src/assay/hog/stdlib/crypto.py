"""Hashing, encoding and identifier functions: md5/sha*, HMAC chains, base64, URL encoding, UUIDs, IPs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from assay.hog.errors import HogRuntimeError
from assay.hog.stdlib.registry import ExecContext, arg, stl
from assay.hog.stdlib.values import js_string, type_name

_PERCENT = re.compile(r"(?:%[0-9a-fA-F]{2})+")


def _digest(raw: bytes, encoding: Any) -> str:
    enc = "hex" if encoding is None else encoding
    if enc == "hex":
        return raw.hex()
    if enc == "base64":
        return base64.b64encode(raw).decode("ascii")
    if enc == "base64url":
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    if enc == "binary":
        return raw.decode("latin-1")
    raise HogRuntimeError(f"Unsupported digest encoding: {js_string(enc)}")


def _hash_fn(name: str, algorithm: Callable[[bytes], Any]) -> None:
    @stl(name + "Hex", 1, 1)
    def _hex(args: list[Any], ctx: ExecContext) -> str | None:
        if args[0] is None:
            return None
        return algorithm(js_string(args[0]).encode("utf-8")).hexdigest()

    @stl(name, 1, 2)
    def _encoded(args: list[Any], ctx: ExecContext) -> str | None:
        if args[0] is None:
            return None
        return _digest(algorithm(js_string(args[0]).encode("utf-8")).digest(), arg(args, 1))


_hash_fn("md5", hashlib.md5)
_hash_fn("sha1", hashlib.sha1)
_hash_fn("sha256", hashlib.sha256)


def _hmac_chain(algorithm: str, name: str, data: Any, encoding: Any) -> str:
    if type(data) not in (list, tuple) or len(data) < 2:
        raise HogRuntimeError("Data array must contain at least two elements.")
    mac = hmac.new(js_string(data[0]).encode("utf-8"), js_string(data[1]).encode("utf-8"), algorithm)
    for item in data[2:]:
        mac = hmac.new(mac.digest(), js_string(item).encode("utf-8"), algorithm)
    return _digest(mac.digest(), encoding)


@stl("sha256HmacChainHex", 1, 1)
def _sha256_hmac_hex(args: list[Any], ctx: ExecContext) -> str:
    return _hmac_chain("sha256", "sha256HmacChainHex", args[0], "hex")


@stl("sha256HmacChain", 1, 2)
def _sha256_hmac(args: list[Any], ctx: ExecContext) -> str:
    return _hmac_chain("sha256", "sha256HmacChain", args[0], arg(args, 1))


@stl("sha1HmacChainHex", 1, 1)
def _sha1_hmac_hex(args: list[Any], ctx: ExecContext) -> str:
    return _hmac_chain("sha1", "sha1HmacChainHex", args[0], "hex")


@stl("sha1HmacChain", 1, 2)
def _sha1_hmac(args: list[Any], ctx: ExecContext) -> str:
    return _hmac_chain("sha1", "sha1HmacChain", args[0], arg(args, 1))


def _buffer_source(value: Any) -> str:
    """The text Node's ``Buffer.from(value)`` reads; like it, refuses null, booleans and numbers."""
    if value is None or type(value) in (bool, int, float):
        raise HogRuntimeError(f"Can not base64-encode or decode a value of type {type_name(value)}")
    return js_string(value)


@stl("base64Encode", 1, 1)
def _base64_encode(args: list[Any], ctx: ExecContext) -> str:
    text = _buffer_source(args[0])
    ctx.reserve_string(len(text) * 2)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _lenient_b64decode(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9+/\-_]", "", text.split("=")[0]).replace("-", "+").replace("_", "/")
    if len(cleaned) % 4 == 1:
        cleaned = cleaned[:-1]
    cleaned += "=" * (-len(cleaned) % 4)
    return base64.b64decode(cleaned).decode("utf-8", errors="replace")


@stl("base64Decode", 1, 1)
def _base64_decode(args: list[Any], ctx: ExecContext) -> str:
    return _lenient_b64decode(_buffer_source(args[0]))


@stl("tryBase64Decode", 1, 1)
def _try_base64_decode(args: list[Any], ctx: ExecContext) -> str:
    try:
        return _lenient_b64decode(_buffer_source(args[0]))
    except (binascii.Error, ValueError, HogRuntimeError):
        return ""


@stl("encodeURLComponent", 1, 1)
def _encode_url_component(args: list[Any], ctx: ExecContext) -> str:
    text = js_string(args[0])
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise HogRuntimeError("URI malformed") from e
    ctx.reserve_string(len(raw) * 3)
    return quote(raw, safe="-_.!~*'()")


def decode_url_component(text: str) -> str:
    """``decodeURIComponent``: strict, raising ``HogRuntimeError('URI malformed')`` on bad escapes."""

    def decode(m: re.Match[str]) -> str:
        try:
            return bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8")
        except UnicodeDecodeError as e:
            raise HogRuntimeError("URI malformed") from e

    if "%" in _PERCENT.sub("", text):
        raise HogRuntimeError("URI malformed")
    return _PERCENT.sub(decode, text)


@stl("decodeURLComponent", 1, 1)
def _decode_url_component(args: list[Any], ctx: ExecContext) -> str:
    return decode_url_component(js_string(args[0]))


@stl("tryDecodeURLComponent", 1, 1)
def _try_decode_url_component(args: list[Any], ctx: ExecContext) -> str | None:
    try:
        return decode_url_component(js_string(args[0]))
    except HogRuntimeError:
        return None


@stl("generateUUIDv4", 0, 0)
def _generate_uuid4(args: list[Any], ctx: ExecContext) -> str:
    return str(uuid.uuid4())


@stl("isIPAddressInRange", 2, 2)
def _is_ip_in_range(args: list[Any], ctx: ExecContext) -> bool:
    address, prefix = args
    if type(address) is not str or type(prefix) is not str:
        return False
    try:
        network = ipaddress.ip_network(prefix.strip(), strict=False)
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return ip.version == network.version and ip in network
