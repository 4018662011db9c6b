"""Capture request decoding: posthog-js forms built by hand, and every way a body can be bad."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.ingest import decode as decode_mod
from assay.ingest.decode import (
    CaptureDecodeError,
    decode_capture_request,
    lz_decompress_from_base64,
    parse_datetime,
)

JS_EVENT = {
    "event": "$pageview",
    "properties": {"distinct_id": "anon-1", "token": "phc_js", "$current_url": "https://x.test/é"},
    "timestamp": "2025-01-01T10:00:00.000Z",
    "uuid": "01941f29-7c00-7000-8000-000000000001",
}

# Produced once with the lz-string npm package (compressToBase64) from the JSON strings shown.
LZ_FIXTURES = [
    (
        '{"event":"$pageview","properties":{"distinct_id":"u1","token":"phc_js","$current_url":"https://x.test/é"}}',
        "N4IgpgbmB2AuIC4QBIAOBDA5pAlmA7iADQioBOA9qmGbHgM6KgAmO9d0AxrAPo7OIQAVwCMxELAoBrGINQALTjwBWjEsk5CyZGLy0AbQfNixU9BAHoLADwB0sMOwsBLkAF83QA==",
    ),
    (
        json.dumps(
            [
                {
                    "event": "a",
                    "properties": {"distinct_id": "u2", "token": "phc_js", "text": "héllo wörld 日本語 😀 " * 20},
                }
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        "NobwRApgbhB2AuYBcYCGYA0YAOAnA9thLvAJYQDOy4AJqRWbAMbwD6pNyYArgEyZh4+ANZwu2ABZNWAKypZ4EAB6IUEgJcAbTfgAEAdwBvuTTV2BT00A05oDyo3YF4NwAB7ujdr1GTZq7cfOtOg8amFjb2Ti7+7kFeob6uAR7B3mF+boGeIT7hqQnRmSnxURnJcZHpSbERaYkxWQVlNfml1XklVbnFlTlFFdmF5bVN7T11zR299S2dfQ2tXeVgAL4LALpAA=",
    ),
    ("x", "B5A="),
]


def dec(body: bytes, content_type: str | None = None, encoding: str | None = None, **query: str):  # type: ignore[no-untyped-def]
    return decode_capture_request(body, content_type=content_type, content_encoding=encoding, query=query)


# --- lz64 ----------------------------------------------------------------------------


@pytest.mark.parametrize(("plain", "compressed"), LZ_FIXTURES)
def test_lz64_matches_lz_string(plain: str, compressed: str) -> None:
    assert lz_decompress_from_base64(compressed) == plain


@pytest.mark.parametrize("bad", ["", "!!!!", "N4Igpg", "AAAA"])
def test_lz64_garbage(bad: str) -> None:
    with pytest.raises(CaptureDecodeError):
        lz_decompress_from_base64(bad)


# --- posthog-js forms ----------------------------------------------------------------


def test_js_gzip_js_body() -> None:
    body = gzip.compress(json.dumps([JS_EVENT]).encode())
    p = dec(body, "text/plain", None, compression="gzip-js", _="1735725600123", ver="1.200.0")
    assert p.token == "phc_js"
    assert p.events == [JS_EVENT]
    assert p.sent_at == datetime(2025, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)


def test_js_form_base64() -> None:
    data = base64.b64encode(json.dumps(JS_EVENT).encode()).decode()
    p = dec(urlencode({"data": data, "compression": "base64"}).encode(), "application/x-www-form-urlencoded")
    assert p.events == [JS_EVENT] and p.token == "phc_js"


def test_js_form_base64_with_unencoded_plus() -> None:
    # some clients do not URL-encode the base64, so '+' arrives as ' '
    raw = json.dumps({"event": "e", "properties": {"distinct_id": "u", "x": ">>>???"}}).encode()
    data = base64.b64encode(raw).decode()
    assert "+" in data or "/" in data
    p = dec(f"data={data}".encode(), "application/x-www-form-urlencoded")
    assert p.events[0]["properties"]["x"] == ">>>???"


def test_js_form_lz64() -> None:
    plain, compressed = LZ_FIXTURES[1]
    body = ("data=" + quote(compressed, safe="") + "&compression=lz64").encode()
    p = dec(body, "application/x-www-form-urlencoded")
    assert p.events == json.loads(plain) and p.token == "phc_js"


def test_js_lz64_query_and_raw_body() -> None:
    plain, compressed = LZ_FIXTURES[0]
    p = dec(compressed.encode(), "text/plain", compression="lz64")
    assert p.events == [json.loads(plain)]


def test_js_form_plain_json_and_no_content_type() -> None:
    body = ("data=" + quote(json.dumps([JS_EVENT]))).encode()
    assert dec(body).events == [JS_EVENT]


def test_raw_base64_body() -> None:
    body = base64.b64encode(json.dumps({"batch": [JS_EVENT]}).encode())
    assert dec(body, "text/plain", compression="base64").events == [JS_EVENT]
    assert dec(body, "text/plain").events == [JS_EVENT]  # sniffed, as PostHog does


def test_plain_json_object_and_list() -> None:
    assert dec(json.dumps(JS_EVENT).encode(), "application/json").events == [JS_EVENT]
    assert dec(json.dumps([JS_EVENT, JS_EVENT]).encode(), "application/json").events == [JS_EVENT, JS_EVENT]
    assert dec(json.dumps({"data": JS_EVENT}).encode()).events == [JS_EVENT]


def test_data_string_and_bom() -> None:
    data = base64.b64encode(json.dumps([JS_EVENT]).encode()).decode()
    assert dec(json.dumps({"data": data}).encode(), "application/json").events == [JS_EVENT]
    plain, compressed = LZ_FIXTURES[0]
    assert dec(json.dumps({"data": compressed}).encode(), compression="lz64").events == [json.loads(plain)]
    assert dec(b"\xef\xbb\xbf" + json.dumps(JS_EVENT).encode(), "application/json").events == [JS_EVENT]


def test_gzip_sniffed_without_headers_and_deflate() -> None:
    ev = {"event": "e", "distinct_id": "u"}
    body = json.dumps({"batch": [ev], "api_key": "phc_py"}).encode()
    assert dec(gzip.compress(body), "application/json").token == "phc_py"
    assert dec(zlib.compress(body), "application/json", "deflate").events == [ev]


# --- python-sdk shape details --------------------------------------------------------


def test_python_shape_fields() -> None:
    body = {
        "batch": [{"event": "e", "distinct_id": "u", "properties": {}}],
        "historical_migration": True,
        "sent_at": "2025-02-03T04:05:06.789+02:00",
        "api_key": "phc_py",
    }
    p = dec(json.dumps(body).encode(), "application/json")
    assert p.token == "phc_py" and p.historical_migration is True
    assert p.sent_at == datetime(2025, 2, 3, 2, 5, 6, 789000, tzinfo=UTC)


def test_token_sources() -> None:
    ev = {"event": "e", "properties": {"distinct_id": "u"}}
    assert dec(json.dumps([ev]).encode(), token="phc_q").token == "phc_q"
    assert dec(json.dumps({"event": "e", "token": "phc_top"}).encode()).token == "phc_top"
    assert dec(json.dumps([{**ev, "api_key": "phc_ev"}]).encode(), token="phc_q").token == "phc_ev"
    assert dec(json.dumps({"batch": [ev], "api_key": "phc_b"}).encode()).token == "phc_b"
    assert dec(json.dumps([ev]).encode()).token is None
    assert dec(json.dumps([{"event": "e", "properties": {"token": 5}}]).encode(), token="phc_q").token == "phc_q"


def test_conflicting_tokens_rejected() -> None:
    evs = [
        {"event": "e", "properties": {"distinct_id": "u", "token": "phc_a"}},
        {"event": "e", "properties": {"distinct_id": "u", "token": "phc_b"}},
    ]
    with pytest.raises(CaptureDecodeError, match="different project tokens"):
        dec(json.dumps(evs).encode())


def test_bad_sent_at_is_ignored() -> None:
    p = dec(json.dumps({"batch": [], "sent_at": "yesterday"}).encode(), _="abc")
    assert p.sent_at is None and p.events == []


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kwargs", "needle"),
    [
        (b"", {}, "empty"),
        (b"  \n", {}, "empty"),
        (b"{not json", {"content_type": "application/json"}, "not valid JSON"),
        (b"\x1f\x8b\x08\x00garbage", {}, "gzip"),
        (gzip.compress(b'{"event": "e"}', mtime=0)[:-6], {}, "truncated gzip"),
        (b'{"event": "e"}', {"encoding": "gzip"}, "not valid gzip"),
        (b"abc", {"encoding": "br"}, "not supported"),
        (b"%%%%", {}, "neither JSON nor"),
        (b'"just a string"', {}, "neither JSON nor"),
        (b"42", {}, "neither JSON nor"),
        (b'{"batch": 5}', {}, "`batch` must be a list"),
        (b'{"hello": 1}', {}, "no events"),
        (b"foo=bar", {"content_type": "application/x-www-form-urlencoded"}, "no `data` field"),
        (b"data=%%%", {"content_type": "application/x-www-form-urlencoded"}, "neither JSON nor"),
        (b"data=***&compression=lz64", {"content_type": "application/x-www-form-urlencoded"}, "invalid character"),
        (b'{"batch": [], "api_key": 5}', {}, "api_key must be a string"),
        (b"\xff\xfe", {"content_type": "application/x-www-form-urlencoded"}, "not UTF-8"),
    ],
)
def test_undecodable_bodies(body: bytes, kwargs: dict, needle: str) -> None:
    with pytest.raises(CaptureDecodeError) as ei:
        dec(body, kwargs.get("content_type"), kwargs.get("encoding"))
    assert needle in ei.value.message


def test_size_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_mod, "MAX_BODY_BYTES", 1000)
    with pytest.raises(CaptureDecodeError, match="limit is"):
        dec(b"[" + b" " * 2000 + b"]")
    monkeypatch.setattr(decode_mod, "MAX_DECODED_BYTES", 10_000)
    bomb = gzip.compress(b"[" + b" " * 50_000 + b"]")
    assert len(bomb) < 1000
    with pytest.raises(CaptureDecodeError, match="over the"):
        dec(bomb)


def test_parse_datetime() -> None:
    assert parse_datetime("2025-01-01T00:00:00") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_datetime("2025-01-01T01:00:00+01:00") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_datetime("2025-01-01T00:00:00Z") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_datetime("2025-01-01") == datetime(2025, 1, 1, tzinfo=UTC)
    for bad in ["", "nope", 5, None, "x" * 100]:
        assert parse_datetime(bad) is None


_CT = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded"])
_ENC = st.sampled_from([None, "gzip", "deflate", "br", ""])
_COMP = st.sampled_from(["", "gzip-js", "base64", "lz64", "weird"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), _CT, _ENC, _COMP)
def test_arbitrary_bytes_only_raise_decode_error(body: bytes, ct: str | None, enc: str | None, comp: str) -> None:
    try:
        p = decode_capture_request(body, content_type=ct, content_encoding=enc, query={"compression": comp})
    except CaptureDecodeError as e:
        assert e.message
    else:
        assert isinstance(p.events, list)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), _COMP, st.sampled_from([b"data=", b"", b"\x1f\x8b", b"{", b"["]))
def test_arbitrary_text_only_raise_decode_error(text: str, comp: str, prefix: bytes) -> None:
    body = prefix + text.encode("utf-8", "surrogatepass")
    try:
        decode_capture_request(body, content_type=None, content_encoding=None, query={"compression": comp})
    except CaptureDecodeError:
        pass


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "event": st.text(min_size=1, max_size=20),
                "properties": st.dictionaries(
                    st.text(max_size=10), st.integers(min_value=-(2**63), max_value=2**64 - 1)
                ),
            }
        ),
        max_size=5,
    ),
    st.sampled_from(["json", "gzip", "base64", "form-b64", "gzip-js"]),
)
def test_round_trip_every_encoding(events: list[dict], how: str) -> None:
    raw = json.dumps({"batch": events, "api_key": "phc_x"}).encode()
    if how == "json":
        p = dec(raw, "application/json")
    elif how == "gzip":
        p = dec(gzip.compress(raw), "application/json", "gzip")
    elif how == "base64":
        p = dec(base64.b64encode(raw), "text/plain", compression="base64")
    elif how == "form-b64":
        p = dec(urlencode({"data": base64.b64encode(raw).decode()}).encode(), "application/x-www-form-urlencoded")
    else:
        p = dec(gzip.compress(raw), "text/plain", compression="gzip-js")
    assert p.events == events and p.token == "phc_x"
