from __future__ import annotations

import json
from typing import Any

import pytest

from relay.providers.microsoft_graph import SPEC, MicrosoftGraphProvider, build
from tests.unit.providers._kit import NOW, config_key, handshake_reason, reason_of, request

STATE = "secretClientValue-7f3a"
TOKEN = "Validation: Testing client application reachability for subscription Request-Id: 3b3f"


def notification(state: Any = STATE, change: str = "created") -> dict[str, Any]:
    return {
        "subscriptionId": "sub-1",
        "clientState": state,
        "changeType": change,
        "resource": "Users/abc/messages/def",
    }


def body(*items: dict[str, Any]) -> bytes:
    return json.dumps({"value": list(items or (notification(),))}).encode()


def provider(*secrets: str) -> MicrosoftGraphProvider:
    return build(list(secrets or (STATE,)), {})


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_answers_the_validation_token(method: str) -> None:
    req = request(
        b"", {"Content-Type": "text/plain"}, method=method, query={"validationToken": TOKEN}
    )
    reply = provider().handshake(req, NOW)
    assert reply is not None
    assert (reply.status_code, reply.media_type, reply.body) == (200, "text/plain", TOKEN.encode())


def test_refuses_unusable_tokens_and_ignores_other_requests() -> None:
    bad = request(b"", query={"validationToken": ""})
    assert handshake_reason(provider(), bad) == "malformed_challenge"
    assert provider().handshake(request(body()), NOW) is None


def test_accepts_notifications_with_a_known_client_state() -> None:
    provider().verify(request(body()), NOW)
    provider().verify(request(body(notification(), notification(change="updated"))), NOW)
    provider("rotated", STATE).verify(request(body()), NOW)


def test_every_item_must_match() -> None:
    forged = body(notification(), notification(state="attacker"))
    assert reason_of(provider(), request(forged)) == "client_state_mismatch"
    assert reason_of(provider("other"), request(body())) == "client_state_mismatch"
    assert reason_of(provider(), request(body(notification(STATE[:-1] + "b")))) == (
        "client_state_mismatch"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "malformed_body"),
        (b"\xfe\xff", "malformed_body"),
        (b'{"value": []}', "malformed_body"),
        (b'{"value": {}}', "malformed_body"),
        (b"[]", "malformed_body"),
        (b'{"value": [{"clientState": "a", "clientState": "b"}]}', "malformed_body"),
        (b'{"value": [{"changeType": "created"}]}', "missing_client_state"),
        (b'{"value": [{"clientState": 5}]}', "missing_client_state"),
        (b'{"value": [1]}', "missing_client_state"),
    ],
)
def test_rejects_broken_bodies(raw: bytes, reason: str) -> None:
    assert reason_of(provider(), request(raw)) == reason


def test_event_type_and_no_id() -> None:
    parsed = json.loads(body(notification(change="deleted")))
    assert provider().event_type(request(), parsed) == "deleted"
    assert provider().event_id(request(), parsed) is None
    assert provider().event_type(request(), {"value": []}) is None


def test_rejects_bad_config() -> None:
    assert config_key(build, [], {}) == "secrets"
    assert config_key(build, [STATE], {"public_url": "https://x"}) == "public_url"


def test_spec() -> None:
    assert SPEC.name == "microsoft-graph"
    assert SPEC.allows_get
    assert STATE not in repr(provider())
