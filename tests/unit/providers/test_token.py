from __future__ import annotations

from typing import Any

import pytest

from relay.providers.base import VerificationError
from relay.providers.token import SPEC, TokenProvider, build
from tests.unit.providers._kit import NOW, config_key, reason_of, request

TOKEN = "tok_9f8e7d6c5b4a"


def provider(*secrets: str, **options: Any) -> TokenProvider:
    return build(list(secrets or (TOKEN,)), options)


def test_accepts_the_token_in_authorization_by_default() -> None:
    provider().verify(request(b"{}", {"Authorization": TOKEN}), NOW)


def test_prefix_is_required_and_case_insensitive() -> None:
    p = provider(prefix="Bearer ")
    p.verify(request(b"", {"Authorization": f"Bearer {TOKEN}"}), NOW)
    p.verify(request(b"", {"Authorization": f"bearer {TOKEN}"}), NOW)
    assert reason_of(p, request(b"", {"Authorization": TOKEN})) == "malformed_token"
    assert reason_of(p, request(b"", {"Authorization": f"Bearer  {TOKEN}"})) == "token_mismatch"


def test_custom_header() -> None:
    p = provider(header="X-Gitlab-Token")
    p.verify(request(b"", {"X-Gitlab-Token": TOKEN}), NOW)
    assert reason_of(p, request(b"", {"Authorization": TOKEN})) == "missing_token"


@pytest.mark.parametrize("value", ["", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "é" + TOKEN])
def test_rejects_other_tokens(value: str) -> None:
    assert reason_of(provider(), request(b"", {"Authorization": value})) == "token_mismatch"


def test_rotation_and_missing() -> None:
    provider("new", TOKEN).verify(request(b"", {"Authorization": TOKEN}), NOW)
    assert reason_of(provider(), request(b"", {})) == "missing_token"


def test_non_ascii_secrets_compare_by_bytes() -> None:
    secret = "clé-secrète"
    # The HTTP layer decodes header bytes as latin-1.
    wire = secret.encode().decode("latin-1")
    provider(secret).verify(request(b"", {"Authorization": wire}), NOW)


def test_event_fields_and_no_leak() -> None:
    p = provider(event_type_header="X-Event", event_id_path="id")
    req = request(b"", {"X-Event": "push"})
    assert (p.event_type(req, {"id": 3}), p.event_id(req, {"id": 3})) == ("push", "3")
    with pytest.raises(VerificationError) as info:
        p.verify(request(b"", {"Authorization": "nope"}), NOW)
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(p)


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        ([TOKEN], {"prefix": 3}, "prefix"),
        ([TOKEN], {"header": ""}, "header"),
        ([TOKEN], {"tolerance": 3}, "tolerance"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "token"
    assert provider().handshake(request(), NOW) is None
