"""GitLab: the secret token compared in constant time; event and dedupe headers."""

from __future__ import annotations

import pytest

from relay.devtools.signing import sign
from relay.providers.base import ConfigError, VerificationError
from tests.unit.providers.cases import build, reason_of, request

SECRET = "glpat-like-webhook-token"
NOW = 1_700_000_000.0
BODY = b'{"object_kind":"push","ref":"refs/heads/main"}'


def test_accepts_the_token_and_any_secret_during_rotation() -> None:
    headers = sign("gitlab", SECRET, BODY, NOW)
    assert headers == {"x-gitlab-token": SECRET}
    build("gitlab", SECRET).verify(request(BODY, headers), NOW)
    build("gitlab", "new-token", SECRET).verify(request(BODY, headers), NOW)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_signature"),
        ({"x-gitlab-token": ""}, "signature_mismatch"),
        ({"x-gitlab-token": "wrong"}, "signature_mismatch"),
        ({"x-gitlab-token": SECRET + " "}, "signature_mismatch"),
        ({"x-gitlab-token": SECRET[:-1]}, "signature_mismatch"),
        ({"x-gitlab-token": "€\ud800"}, "signature_mismatch"),
        ({"x-hub-signature": SECRET}, "missing_signature"),
    ],
)
def test_refuses_missing_or_wrong_tokens(headers: dict[str, str], reason: str) -> None:
    assert reason_of(build("gitlab", SECRET), request(BODY, headers)) == reason


def test_a_non_ascii_token_arriving_as_latin1_decoded_utf8_matches() -> None:
    secret = "jeton-secret-é€"
    as_received = secret.encode("utf-8").decode("latin-1")  # how the server decodes headers
    build("gitlab", secret).verify(request(BODY, {"x-gitlab-token": as_received}), NOW)


def test_messages_and_repr_do_not_carry_the_token() -> None:
    provider = build("gitlab", SECRET)
    with pytest.raises(VerificationError, match="does not match") as info:
        provider.verify(request(BODY, {"x-gitlab-token": "wrong"}), NOW)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(provider)


@pytest.mark.parametrize(
    ("headers", "expected_id"),
    [
        (
            {
                "idempotency-key": "908a6d9e-45fd-46c8-97e6-c4f350f219dd",
                "x-gitlab-event-uuid": "3a2e5d0c-0b8f-4b51-9d8c-1f2e3d4c5b6a",
                "x-gitlab-webhook-uuid": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
            },
            "908a6d9e-45fd-46c8-97e6-c4f350f219dd",
        ),
        (
            {
                "x-gitlab-event-uuid": "3a2e5d0c-0b8f-4b51-9d8c-1f2e3d4c5b6a",
                "x-gitlab-webhook-uuid": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
            },
            "3a2e5d0c-0b8f-4b51-9d8c-1f2e3d4c5b6a",
        ),
        (
            {"x-gitlab-webhook-uuid": "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"},
            "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
        ),
        ({"x-gitlab-event-uuid": ""}, None),
        ({}, None),
    ],
)
def test_event_type_and_dedupe_id_come_from_headers(
    headers: dict[str, str], expected_id: str | None
) -> None:
    req = request(BODY, {"x-gitlab-event": "Push Hook", **headers})
    provider = build("gitlab", SECRET)
    assert provider.event_type(req, {"object_kind": "push"}) == "Push Hook"
    assert provider.event_id(req, None) == expected_id


def test_no_handshake_and_no_options() -> None:
    assert build("gitlab", SECRET).handshake(request(BODY, {}), NOW) is None
    with pytest.raises(ConfigError) as info:
        build("gitlab", SECRET, tolerance=5)
    assert info.value.key == "tolerance"
