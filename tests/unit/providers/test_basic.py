from __future__ import annotations

import base64
from typing import Any

import pytest

from relay.providers.base import VerificationError
from relay.providers.basic import SPEC, BasicProvider, build
from tests.unit.providers._kit import NOW, config_key, reason_of, request

CREDENTIALS = "relay:s3cret:with:colons"


def auth(credentials: str, scheme: str = "Basic") -> dict[str, str]:
    return {"Authorization": f"{scheme} {base64.b64encode(credentials.encode()).decode()}"}


def provider(*secrets: str, **options: Any) -> BasicProvider:
    return build(list(secrets or (CREDENTIALS,)), options)


def test_accepts_matching_credentials() -> None:
    provider().verify(request(b"", auth(CREDENTIALS)), NOW)
    provider().verify(request(b"", auth(CREDENTIALS, "basic")), NOW)


@pytest.mark.parametrize("credentials", ["relay:s3cret", "Relay:s3cret:with:colons", "relay:"])
def test_rejects_other_credentials(credentials: str) -> None:
    assert reason_of(provider(), request(b"", auth(credentials))) == "credentials_mismatch"


def test_rotation() -> None:
    provider("old:pw", CREDENTIALS).verify(request(b"", auth(CREDENTIALS)), NOW)


@pytest.mark.parametrize(
    "value",
    ["Bearer abc", "Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "é"],
)
def test_rejects_malformed_headers(value: str) -> None:
    assert reason_of(provider(), request(b"", {"Authorization": value})) == (
        "malformed_credentials"
    )


def test_rejects_missing_header() -> None:
    assert reason_of(provider(), request(b"", {})) == "missing_credentials"


def test_event_fields_and_no_leak() -> None:
    p = provider(event_type_path="kind")
    assert p.event_type(request(), {"kind": "k"}) == "k"
    assert p.event_id(request(), {"id": "x"}) is None
    with pytest.raises(VerificationError) as info:
        p.verify(request(b"", auth("relay:wrong")), NOW)
    assert "s3cret" not in str(info.value)
    assert "s3cret" not in repr(p)


@pytest.mark.parametrize(
    ("secrets", "options", "key"),
    [
        ([], {}, "secrets"),
        (["nocolon"], {}, "secrets"),
        ([":password-only"], {}, "secrets"),
        ([CREDENTIALS], {"header": "X"}, "header"),
    ],
)
def test_rejects_bad_config(secrets: list[str], options: dict[str, Any], key: str) -> None:
    assert config_key(build, secrets, options) == key


def test_spec() -> None:
    assert SPEC.name == "basic"
    assert provider().handshake(request(), NOW) is None
