"""Redaction: secret-looking keys and credential headers masked, known secrets cut anywhere."""

from __future__ import annotations

import json

import pytest

from relay.redact import MASK, Redactor, secret_header, secret_key


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("api_key", True),
        ("apiKey", True),
        ("client-secret", True),
        ("access_token", True),
        ("Authorization", True),
        ("signature", True),
        ("private_key", True),
        ("title", False),
        ("number", False),
        ("author", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert secret_key(key) is secret


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("x-hub-signature-256", True),
        ("stripe-signature", True),
        ("authorization", True),
        ("cookie", True),
        ("x-api-key", True),
        ("x-gitlab-token", True),
        ("x-shopify-hmac-sha256", True),
        ("content-type", False),
        ("x-github-event", False),
        ("idempotency-key", False),
        ("user-agent", False),
    ],
)
def test_credential_headers(name: str, secret: bool) -> None:
    assert secret_header(name) is secret


def test_values_are_masked_by_key_and_known_secrets_cut_anywhere() -> None:
    r = Redactor(["s3cret-value", "tiny"])
    shown = r.value(
        {
            "user": {"password": "hunter2", "name": "ann"},
            "note": "the key is s3cret-value!",
            "items": [{"token": 42}, "tiny stays"],
            "empty_secret": "",
        }
    )
    assert shown == {
        "user": {"password": MASK, "name": "ann"},
        "note": f"the key is {MASK}!",
        "items": [{"token": MASK}, "tiny stays"],
        "empty_secret": "",
    }


def test_body_is_pretty_json_a_form_or_text() -> None:
    r = Redactor(["whsec_abcdef"])
    pretty = r.body(b'{"a": 1, "secret": "x"}')
    assert json.loads(pretty) == {"a": 1, "secret": MASK}
    assert "\n" in pretty
    form = r.body(b"From=%2B1555&AuthToken=abc&Body=hi", "application/x-www-form-urlencoded")
    assert form.splitlines() == ["From=+1555", f"AuthToken={MASK}", "Body=hi"]
    assert r.body(b"plain whsec_abcdef text") == f"plain {MASK} text"
    assert r.body(b"\xff\xfe") == "(2 bytes, not UTF-8)"
    assert r.body(b"{not json") == "{not json"


def test_headers_keep_their_names() -> None:
    r = Redactor(["abcdefgh"])
    shown = r.headers({"X-Hub-Signature-256": "sha256=ff", "X-Note": "abcdefgh", "Accept": "*/*"})
    assert shown == {"X-Hub-Signature-256": MASK, "X-Note": MASK, "Accept": "*/*"}


def test_a_request_teaches_the_values_it_carried_as_secrets() -> None:
    body = json.dumps({"credentials": {"password": "correct-horse"}, "n": 1}).encode()
    learned = Redactor().learned({"authorization": "Bearer tok-123456789"}, body)
    assert learned.text("log: correct-horse / tok-123456789") == f"log: {MASK} / {MASK}"
    assert learned.text("n is 1") == "n is 1"  # short values are not learned
