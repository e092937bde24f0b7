"""Behaviour every HMAC provider shares, parametrised over the providers of ``cases.py``."""

from __future__ import annotations

import pytest

from relay.body_format import parse_body
from relay.devtools.signing import sign, signer_names
from relay.providers import get_spec
from relay.providers.base import ConfigError, VerificationError, WebhookRequest
from tests.unit.providers.cases import (
    CASES,
    NAMES,
    NOW,
    OTHER_SECRET,
    SECRET,
    SVIX_FAMILY,
    UNTIMED,
    body_at,
    build,
    make,
    reason_of,
    request,
)
from tests.unit.providers.signers import MSG_ID, REFERENCE


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_product_signer_matches_the_reference_signer(name: str) -> None:
    body = body_at(CASES[name], NOW) if name in CASES else b'{"object_kind":"push"}'
    opts = {"msg_id": MSG_ID} if name in SVIX_FAMILY else {}
    assert sign(name, SECRET, body, NOW, **opts) == REFERENCE[name](SECRET, body, NOW)


def test_every_registered_provider_of_this_batch_has_a_signer() -> None:
    assert set(REFERENCE) <= set(signer_names())
    with pytest.raises(KeyError, match="no signer"):
        sign("no-such-provider", SECRET, b"", NOW)
    with pytest.raises(ValueError, match="option"):
        sign("stripe", SECRET, b"", NOW, msg_id="x")


@pytest.mark.parametrize("name", NAMES)
def test_accepts_a_valid_delivery(name: str) -> None:
    body, headers = make(CASES[name])
    build(name).verify(request(body, headers), NOW)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_a_body_tampered_by_one_byte(name: str) -> None:
    body, headers = make(CASES[name])
    tampered = bytearray(body)
    tampered[len(body) // 2] ^= 0x01
    assert reason_of(build(name), request(bytes(tampered), headers)) == "signature_mismatch"


@pytest.mark.parametrize("name", NAMES)
def test_rejects_a_wrong_secret(name: str) -> None:
    body, headers = make(CASES[name], secret=OTHER_SECRET)
    assert reason_of(build(name), request(body, headers)) == "signature_mismatch"


@pytest.mark.parametrize("name", NAMES)
def test_accepts_the_second_secret_during_rotation(name: str) -> None:
    body, headers = make(CASES[name])
    build(name, OTHER_SECRET, SECRET).verify(request(body, headers), NOW)
    build(name, SECRET, OTHER_SECRET).verify(request(body, headers), NOW)


@pytest.mark.parametrize("name", NAMES)
def test_rejects_a_missing_signature_header(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    del headers[case.header]
    assert reason_of(build(name), request(body, headers)) == "missing_signature"


def _split(value: str, marker: str) -> tuple[str, str]:
    """(everything up to the encoded signature, the encoded signature)."""
    at = value.rindex(marker) + len(marker) if marker else 0
    return value[:at], value[at:]


def _malformed(value: str, marker: str) -> dict[str, str]:
    head, encoded = _split(value, marker)
    variants = {
        "not_encoded": head + "!" * len(encoded),
        "truncated": head + encoded[:-4],
        "non_ascii": head + "é" * len(encoded),
        "empty": head,
    }
    if marker:
        variants["no_marker"] = head[: -len(marker)] + encoded
    return variants


@pytest.mark.parametrize(
    ("name", "variant"),
    [
        (name, variant)
        for name in NAMES
        for variant in _malformed(make(CASES[name])[1][CASES[name].header], CASES[name].marker)
    ],
)
def test_rejects_a_malformed_signature_header(name: str, variant: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    headers[case.header] = _malformed(headers[case.header], case.marker)[variant]
    assert reason_of(build(name), request(body, headers)) == "malformed_signature"


@pytest.mark.parametrize("name", NAMES)
def test_extracts_event_type_and_id_from_a_realistic_delivery(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    req = request(body, headers)
    provider = build(name)
    parsed = parse_body(body, "application/json")
    assert provider.event_type(req, parsed) == case.event_type
    assert provider.event_id(req, parsed) == case.event_id


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("body", [None, [], "text", 7, {}, {"type": None, "event": []}])
def test_event_fields_are_none_or_text_for_odd_bodies(name: str, body: object) -> None:
    provider = build(name)
    req = request(b"", {})
    for value in (provider.event_type(req, body), provider.event_id(req, body)):
        assert value is None or isinstance(value, str)


@pytest.mark.parametrize("name", NAMES)
def test_an_ordinary_delivery_is_not_a_handshake(name: str) -> None:
    body, headers = make(CASES[name])
    assert build(name).handshake(request(body, headers), NOW) is None


@pytest.mark.parametrize("name", NAMES)
def test_errors_and_repr_do_not_leak_the_secret_or_the_expected_signature(name: str) -> None:
    case = CASES[name]
    body, headers = make(case)
    sent = body + b" "
    _, expected = _split(REFERENCE[name](SECRET, sent, NOW)[case.header], case.marker)
    provider = build(name)
    with pytest.raises(VerificationError) as info:
        provider.verify(request(sent, headers), NOW)
    assert info.value.reason == "signature_mismatch"
    for text in (str(info.value), info.value.detail, repr(provider)):
        assert SECRET not in text
        assert expected not in text
        assert expected.lower() not in text.lower()


@pytest.mark.parametrize("name", NAMES)
def test_rejects_an_unknown_option_naming_its_key(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(name, nope=1)
    assert info.value.key == "nope"


@pytest.mark.parametrize("name", UNTIMED)
def test_schemes_without_timestamps_take_no_tolerance(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(name, tolerance=10)
    assert info.value.key == "tolerance"


# Notion may start with no secret: its key can arrive in its handshake (tested below).
@pytest.mark.parametrize(
    ("name", "secrets"),
    [
        (name, secrets)
        for name in [*NAMES, "gitlab"]
        for secrets in ([], [""], "a-bare-string")
        if not (name == "notion" and secrets == [])
    ],
)
def test_rejects_bad_secret_lists(name: str, secrets: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        get_spec(name).build(secrets, {})
    assert info.value.key == "secrets"


@pytest.mark.parametrize("name", [*NAMES, "gitlab"])
def test_spec_is_registered_under_its_name(name: str) -> None:
    spec = get_spec(name)
    assert spec.name == name
    assert spec.allows_get == (name == "dropbox")
    assert spec.build([SECRET], {}).name == name


def test_notion_accepts_no_secrets_until_its_handshake_hands_one_over() -> None:
    provider = get_spec("notion").build([], {})
    request = WebhookRequest("POST", "/hooks/n", {"x-notion-signature": "sha256=00"}, {}, b"{}")
    with pytest.raises(VerificationError) as info:
        provider.verify(request, 0.0)
    assert info.value.reason == "no_secret"
