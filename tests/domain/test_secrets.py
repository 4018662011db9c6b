from __future__ import annotations

import pytest

from assay.domain.secrets import (
    MASK,
    SecretDecryptionError,
    decrypt_secret,
    encrypt_secret,
    fill_query,
    header_is_secret,
    is_secret_header,
    redact,
    split_query,
)

SERVER_KEY = "server-secret-one"


@pytest.mark.parametrize("plaintext", ["sk-live-abc123", "", "ünïcödé 🔑", "x" * 5000])
def test_round_trip(plaintext: str) -> None:
    token = encrypt_secret(plaintext, SERVER_KEY)
    assert plaintext not in token or not plaintext
    assert decrypt_secret(token, SERVER_KEY) == plaintext


def test_tokens_are_randomised() -> None:
    assert encrypt_secret("same", SERVER_KEY) != encrypt_secret("same", SERVER_KEY)


def test_wrong_key_or_tampered_token_fails() -> None:
    token = encrypt_secret("sk-live-abc123", SERVER_KEY)
    with pytest.raises(SecretDecryptionError) as info:
        decrypt_secret(token, "another-server-secret")
    assert "sk-live" not in str(info.value) and "secret key" in str(info.value)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    for bad in (tampered, "not-a-token", "", "ünïcödé"):
        with pytest.raises(SecretDecryptionError):
            decrypt_secret(bad, SERVER_KEY)


def test_empty_server_key_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        encrypt_secret("x", "")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("authorization", True),
        ("X-Api-Key", True),
        ("X-Auth-Token", True),
        ("x-client-secret", True),
        ("Ocp-Apim-Subscription-Key", True),
        ("X-Password", True),
        ("X-Auth", True),
        ("Authentication", True),
        ("Content-Type", False),
        ("X-Trace-Id", False),
        ("Accept", False),
    ],
)
def test_secret_header_names(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_redact() -> None:
    spec = {
        "kind": "http",
        "url": "https://agent.example.com/chat",
        "api_key": "sk-abc",
        "headers": {
            "Authorization": "Bearer t",
            "X-Api-Key": {"value": "k", "secret": False},
            "X-Marked": {"value": "m", "secret": True},
            "X-Session-Token": "tok",
            "X-Trace": "trace-1",
            "X-Plain": {"value": "p", "secret": False},
        },
    }
    out = redact(spec)
    assert out["api_key"] == MASK and out["url"] == spec["url"]
    assert out["headers"] == {
        "Authorization": MASK,
        "X-Api-Key": {"value": MASK, "secret": False},
        "X-Marked": {"value": MASK, "secret": True},
        "X-Session-Token": MASK,
        "X-Trace": MASK,  # secret unless marked public
        "X-Plain": {"value": "p", "secret": False},
    }
    assert spec["api_key"] == "sk-abc" and spec["headers"]["Authorization"] == "Bearer t"  # input untouched
    assert redact({"kind": "openai_chat", "api_key": None}) == {"kind": "openai_chat", "api_key": None}


def test_header_is_secret_by_default() -> None:
    assert header_is_secret("X-Team", None) and header_is_secret("X-Password", False)
    assert not header_is_secret("X-Team", False) and not header_is_secret("content-type", None)
    assert header_is_secret("Content-Type", True)


def test_query_values_split_and_filled_by_name() -> None:
    url = "https://a.example.com/x?key=s%20ecret&v=1&key=two&flag&empty=#frag"
    masked, pairs = split_query(url, ["v"])
    assert masked == f"https://a.example.com/x?key={MASK}&v=1&key={MASK}&flag&empty=#frag"
    assert pairs == [("key", "s%20ecret"), ("key", "two")]
    assert fill_query(masked, pairs) == (url, ["key", "key"], [])
    assert fill_query(f"https://b.example.com/?key={MASK}&token={MASK}", pairs)[1:] == (["key"], ["token"])
    assert split_query("https://a.example.com/x", []) == ("https://a.example.com/x", [])
    assert redact({"url": url, "public_query": ["v"]})["url"] == masked
